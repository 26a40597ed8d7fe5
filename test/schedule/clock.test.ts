import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type TestSim } from '../helpers/sim.ts';
import { HOUR, iso, startScheduleSim, type ScheduleSim } from './_support.ts';

describe('/sim/clock with clock.control: true', () => {
  let sim: ScheduleSim;
  beforeAll(async () => {
    sim = await startScheduleSim();
  });
  afterAll(() => sim.close());

  it('needs the same Bearer token as /em/*', async () => {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${sim.url}/sim/clock`, { method });
      expect(res.status).toBe(401);
      expect(await res.json()).toEqual({ detail: 'Authentication credentials were not provided.' });
    }
  });

  it('tells the simulated time, the speed and that control is on', async () => {
    const before = sim.clock.now();
    const res = await sim.get('/sim/clock');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ message: 'Simulated clock', data: { speed: 1, control: true } });
    expect(Date.parse(res.body.data.now)).toBeGreaterThanOrEqual(Math.floor(before));
  });

  it('advances by advance_seconds, from JSON, a form or the query string', async () => {
    const start = sim.clock.now();
    const json = await sim.post('/sim/clock', { advance_seconds: 3600 });
    expect(json.status).toBe(200);
    expect(json.body.message).toBe('Clock advanced by 3600 seconds');
    expect(Date.parse(json.body.data.now)).toBeGreaterThanOrEqual(start + HOUR);

    const form = await sim.fetch('/sim/clock', { method: 'POST', body: new URLSearchParams({ advance_seconds: '1800.5' }) });
    expect(form.status).toBe(200);
    expect(((await form.json()) as any).message).toBe('Clock advanced by 1800.5 seconds');

    const query = await sim.fetch('/sim/clock?advance_seconds=60', { method: 'POST' });
    expect(query.status).toBe(200);
    expect(sim.clock.now()).toBeGreaterThanOrEqual(start + HOUR + 1800_500 + 60_000);
    // Moving the clock moved what everything else reads: the GET agrees.
    expect(Date.parse((await sim.get('/sim/clock')).body.data.now)).toBeGreaterThanOrEqual(start + HOUR + 1800_500 + 60_000);
  });

  it('sets the time to an ISO 8601 time with a timezone, forward or back', async () => {
    for (const target of ['2031-03-04T05:06:07+02:00', '2030-01-01T00:00:00Z']) {
      const res = await sim.post('/sim/clock', { set: target });
      expect(res.status).toBe(200);
      expect(res.body.message).toBe('Clock set');
      const now = Date.parse(res.body.data.now);
      expect(now).toBeGreaterThanOrEqual(Date.parse(target));
      // The clock runs on at speed 1 after the jump: by the answer, not by as much as a minute.
      expect(now).toBeLessThan(Date.parse(target) + 60_000);
    }
    expect(iso(Math.floor(sim.clock.now() / 1000) * 1000).slice(0, 10)).toBe('2030-01-01');
  });

  it('refuses bad input with 400 and a message that says what to send', async () => {
    const cases: [Record<string, unknown>, number, string, string][] = [
      [{}, 400, 'MISSING_PARAMETER', 'Give "advance_seconds" (seconds to move forward) or "set" (an ISO 8601 time with a timezone)'],
      [{ advance_seconds: 'soon' }, 400, 'INVALID_PARAMETER', 'Parameter "advance_seconds": expected a number of seconds from 0 to 3153600000, got "soon"; to go back in time, use "set"'],
      [{ advance_seconds: -5 }, 400, 'INVALID_PARAMETER', 'Parameter "advance_seconds": expected a number of seconds from 0 to 3153600000, got "-5"; to go back in time, use "set"'],
      [{ advance_seconds: 1e12 }, 400, 'INVALID_PARAMETER', 'Parameter "advance_seconds": expected a number of seconds from 0 to 3153600000, got "1000000000000"; to go back in time, use "set"'],
      [{ set: '2030-01-01T00:00:00' }, 400, 'INVALID_PARAMETER', 'Parameter "set": "2030-01-01T00:00:00" is not an ISO 8601 time with a timezone between 1970 and 9999, e.g. 2025-05-22T12:10:00+02:00'],
      [{ set: '2030-02-31T00:00:00Z' }, 400, 'INVALID_PARAMETER', 'Parameter "set": "2030-02-31T00:00:00Z" is not an ISO 8601 time with a timezone between 1970 and 9999, e.g. 2025-05-22T12:10:00+02:00'],
      [{ advance_seconds: 1, set: '2030-01-01T00:00:00Z' }, 400, 'INVALID_PARAMETER', 'Give either "advance_seconds" or "set", not both'],
    ];
    for (const [body, status, error, message] of cases) {
      const before = sim.clock.now();
      const res = await sim.post('/sim/clock', body);
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(res.body, JSON.stringify(body)).toEqual({ error, message });
      // Nothing moved (beyond the real time that passed).
      expect(sim.clock.now() - before).toBeLessThan(60_000);
    }
  });
});

describe('/sim/clock with clock.control: false (the default)', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim();
  });
  afterAll(() => sim.close());

  it('reports the clock but refuses to move it with 403 CLOCK_CONTROL_DISABLED', async () => {
    const get = await sim.fetch('/sim/clock');
    expect(get.status).toBe(200);
    expect(((await get.json()) as any).data).toMatchObject({ speed: 1, control: false });

    const before = sim.running.sim.clock.now();
    const res = await sim.fetch('/sim/clock', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ advance_seconds: 3600 }),
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({
      error: 'CLOCK_CONTROL_DISABLED',
      message: 'The simulated clock cannot be moved: set clock.control: true in sim-config.yaml to allow it',
    });
    expect(sim.running.sim.clock.now() - before).toBeLessThan(HOUR);
  });
});
