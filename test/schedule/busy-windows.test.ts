import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimClock } from '../../src/adapters/clock/sim-clock.ts';
import { BusyWindows } from '../../src/domain/busy-windows.ts';
import { SimError } from '../../src/domain/errors.ts';
import type { WindowSpec } from '../../src/domain/time/windows.ts';
import { busyWindows } from '../../src/http/middleware/busy-windows.ts';
import { PASSWORD } from '../helpers/sim.ts';
import { HOUR, MINUTE, iso, startScheduleSim, wholeSecond, type ScheduleSim } from './_support.ts';

describe('busy windows on a running simulator', () => {
  let sim: ScheduleSim;
  // Two windows that overlap: [+1h, +2h) and [+1h50m, +3h) make one busy stretch to +3h.
  const start = wholeSecond(Date.now() + HOUR);
  const end = start + 2 * HOUR;

  beforeAll(async () => {
    sim = await startScheduleSim({
      config: { busy_windows: [{ start: iso(start), end: iso(start + HOUR) }, { start: iso(start + 50 * MINUTE), end: iso(end) }] },
    });
  });
  afterAll(() => sim.close());

  it('serves /em/* normally before the window', async () => {
    expect((await sim.get('/em/files/list')).status).toBe(200);
  });

  it('answers every /em/* request with 423 CG2_BUSY and Retry-After inside the window', async () => {
    // One hour before the merged stretch ends (inside the first window).
    sim.clock.set(end - HOUR);
    for (const [method, path] of [
      ['GET', '/em/files/list'],
      ['POST', '/em/pod/status'],
      ['POST', '/em/nodes/status'],
      ['POST', '/em/pod/run'],
      ['GET', '/em/no/such/endpoint'],
    ] as const) {
      const res = method === 'GET' ? await sim.get(path) : await sim.post(path, { image: 'alpine', max_duration: 1, node: 'FPGA' });
      expect(res.status, path).toBe(423);
      expect(res.body).toEqual({ error: 'CG2_BUSY', message: `CG2 is busy until ${iso(end)} (a busy window is open); retry after it ends` });
      // The clock runs on in real time between set() and the answer (far less than a minute).
      const retryAfter = Number(res.headers.get('retry-after'));
      expect(retryAfter, path).toBeGreaterThan(HOUR / 1000 - 60);
      expect(retryAfter, path).toBeLessThanOrEqual(HOUR / 1000);
    }
    expect(sim.runtime.runs).toHaveLength(0);
  });

  it('never locks /auth/ or /sim/*', async () => {
    const login = await fetch(`${sim.url}/auth/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: 'client1', password: PASSWORD }),
    });
    expect(login.status).toBe(200);
    expect((await fetch(`${sim.url}/sim/health`)).status).toBe(200);
    expect((await sim.get('/sim/clock')).status).toBe(200);
  });

  it('serves again once the clock has crossed the window', async () => {
    const moved = await sim.post('/sim/clock', { advance_seconds: HOUR / 1000 + 1 });
    expect(moved.status).toBe(200);
    expect((await sim.get('/em/files/list')).status).toBe(200);
  });
});

describe('busyWindows middleware', () => {
  const app = (windows: WindowSpec[], clock: SimClock) => {
    const hono = new Hono();
    hono.onError((err, c) => {
      if (!(err instanceof SimError)) throw err;
      return c.json({ error: err.code, retryAfter: err.extra.retryAfter ?? null }, 423);
    });
    hono.use('*', busyWindows(new BusyWindows(windows, clock)));
    hono.get('*', (c) => c.text('ok'));
    return hono;
  };

  it('locks inside a recurring window and not outside, with the time left to the window\'s end', async () => {
    // Ten minutes busy at the start of every hour; a clock that does not move by itself.
    const clock = new SimClock(1e-9, Date.parse('2030-01-01T00:05:00Z'));
    const hono = app([{ every: 3600, duration: 600, offset: 0 }], clock);
    const inside = await hono.request('/x');
    expect(inside.status).toBe(423);
    const body = (await inside.json()) as { error: string; retryAfter: number };
    expect(body.error).toBe('CG2_BUSY');
    // 300 simulated seconds left, which at this speed take 300 / 1e-9 real ones.
    expect(body.retryAfter * 1e-9).toBeCloseTo(300, 3);
    clock.set(Date.parse('2030-01-01T00:10:00Z'));
    expect((await hono.request('/x')).status).toBe(200);
    clock.set(Date.parse('2030-01-01T01:09:59Z'));
    expect((await hono.request('/x')).status).toBe(423);
    clock.close();
  });

  it('converts the time left to real seconds at the clock\'s speed', async () => {
    const clock = new SimClock(60, Date.parse('2030-01-01T00:00:00Z'));
    const hono = app([{ start: '2029-12-31T23:00:00Z', end: '2030-01-01T01:00:00Z' }], clock);
    const body = (await (await hono.request('/x')).json()) as { retryAfter: number };
    // One simulated hour at 60x is a real minute, less what passed since; a slow machine
    // would need half a real minute to get below 30 (and 3600 means no conversion).
    expect(body.retryAfter).toBeGreaterThan(30);
    expect(body.retryAfter).toBeLessThanOrEqual(60);
    clock.close();
  });

  it('lets everything through when no window is configured', async () => {
    const clock = new SimClock(1, Date.parse('2030-01-01T00:00:00Z'));
    expect((await app([], clock).request('/x')).status).toBe(200);
    clock.close();
  });
});
