import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppEnv } from '../../src/http/env.ts';
import { JsonLogger } from '../../src/adapters/log/json-logger.ts';
import { RequestLog, requestLog, type RequestRecord } from '../../src/http/middleware/request-log.ts';
import { listen } from '../../src/http/node-server.ts';
import { form, startSim, uniqueName, type TestSim } from '../helpers/sim.ts';

const NOT_PROVIDED = { detail: 'Authentication credentials were not provided.' };

describe('/sim/requests', () => {
  let sim: TestSim;
  const alice = uniqueName('a');
  const bob = uniqueName('b');
  beforeAll(async () => {
    sim = await startSim({ users: [alice, bob] });
  });
  afterAll(() => sim.close());

  const requests = async (user: string, query = ''): Promise<RequestRecord[]> => {
    const res = await sim.fetch(`/sim/requests${query}`, { user });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { message: string; data: RequestRecord[] };
    expect(body.message).toBe(`Recent requests of ${user}`);
    return body.data;
  };

  it('answers 401 without a token, as /em/* does', async () => {
    for (const p of ['/sim/requests', '/sim/pods', '/sim/pods/logs?pod_name=x']) {
      const res = await fetch(sim.url + p);
      expect(res.status, p).toBe(401);
      expect(await res.json()).toEqual(NOT_PROVIDED);
    }
  });

  it("lists the user's own requests, newest first, with status, duration and body bytes; never another user's", async () => {
    const content = 'x'.repeat(1000);
    const up = await sim.fetch('/em/files/uplink', { user: alice, method: 'POST', body: form({ 'big.txt': content }) });
    expect(up.status).toBe(200);
    // The downlink streams straight to the socket, past Hono: its bytes are still counted.
    const down = await sim.fetch('/em/files/downlink?filepath=big.txt', { user: alice });
    expect(await down.text()).toBe(content);
    const missing = await sim.fetch('/em/files/downlink?filepath=nothing.txt', { user: alice });
    expect(missing.status).toBe(404);
    await missing.arrayBuffer();
    const bobs = await sim.fetch('/em/files/list?pod_name=bobs-pod', { user: bob });
    expect(bobs.status).toBe(200);
    await bobs.arrayBuffer();

    let mine: RequestRecord[] = [];
    await expect.poll(async () => (mine = await requests(alice)).length).toBeGreaterThanOrEqual(3);
    const [newest, second, third] = mine;
    expect(newest).toMatchObject({ method: 'GET', path: '/em/files/downlink', query: 'filepath=nothing.txt', status: 404, bytes_in: 0 });
    expect(second).toMatchObject({ method: 'GET', path: '/em/files/downlink', query: 'filepath=big.txt', status: 200, bytes_in: 0, bytes_out: 1000 });
    expect(third).toMatchObject({ method: 'POST', path: '/em/files/uplink', status: 200 });
    expect(third!.bytes_in).toBeGreaterThan(1000);
    expect(third!.bytes_out).toBe(Buffer.byteLength(JSON.stringify(await up.json())));
    for (const r of mine) {
      expect(r.duration_ms).toBeGreaterThanOrEqual(0);
      expect(Date.parse(r.time)).toBeGreaterThan(Date.now() - 60_000);
      expect(r.path).not.toContain('bobs-pod');
    }
    expect(Date.parse(newest!.time)).toBeGreaterThanOrEqual(Date.parse(second!.time));

    const theirs = await requests(bob);
    expect(theirs.some((r) => r.query === 'pod_name=bobs-pod')).toBe(true);
    expect(theirs.every((r) => !r.path.startsWith('/em/files/uplink') && !r.path.startsWith('/em/files/downlink'))).toBe(true);
  });

  it('takes ?limit= from 1 to 1000', async () => {
    for (let i = 0; i < 3; i++) await (await sim.fetch('/em/files/list', { user: bob })).arrayBuffer();
    await expect.poll(async () => (await requests(bob, '?limit=2')).length).toBe(2);
    for (const bad of ['0', '1001', 'many']) {
      const res = await sim.fetch(`/sim/requests?limit=${bad}`, { user: bob });
      expect(res.status, bad).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('INVALID_PARAMETER');
    }
  });

  it('/sim/pods answers with the asking user\'s pods (none yet)', async () => {
    const res = await sim.fetch('/sim/pods', { user: bob });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ message: `Pods of ${bob}`, data: [] });
  });
});

describe('request log middleware', () => {
  it('writes one line per request with user, status and body bytes, streamed responses included', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = new JsonLogger('info', (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
    const log = new RequestLog(2);
    const app = new Hono<AppEnv>();
    app.use('*', requestLog(logger, log));
    app.use('/private/*', async (c, next) => {
      c.set('user', 'ann');
      await next();
    });
    app.get('/json', (c) => c.json({ hello: 'world' }, 200));
    let healthy = true;
    app.get('/sim/health', (c) => c.json({ status: healthy ? 'ok' : 'down' }, healthy ? 200 : 503));
    app.post('/private/echo', async (c) => c.text(await c.req.text(), 201));
    app.get('/private/stream', (c) => {
      const out = c.env.outgoing as ServerResponse;
      out.writeHead(200, { 'Content-Type': 'text/plain' });
      out.write('abc');
      setTimeout(() => out.end('defgh'), 5);
      return RESPONSE_ALREADY_SENT;
    });
    // Served as em-sim serves: the request log reads the body bytes off node-server.ts's metered request and response.
    const server = await listen(app.fetch, '127.0.0.1', 0);
    const url = server.url;
    try {
      // A passing health check is a probe's: logged at debug only; a failing one is logged.
      expect((await fetch(`${url}/sim/health`)).status).toBe(200);
      healthy = false;
      expect((await fetch(`${url}/sim/health`)).status).toBe(503);
      expect(await (await fetch(`${url}/json?x=1`)).text()).toBe('{"hello":"world"}');
      // A chunked body: no Content-Length, counted as it is read.
      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('0123456789'));
          controller.close();
        },
      });
      const echo = await fetch(`${url}/private/echo`, { method: 'POST', body, duplex: 'half' } as RequestInit);
      expect(await echo.text()).toBe('0123456789');
      expect(await (await fetch(`${url}/private/stream`)).text()).toBe('abcdefgh');
      await expect.poll(() => lines.length).toBe(4);
    } finally {
      await server.close();
    }
    expect(lines.map(({ time, duration_ms, ...rest }) => rest)).toEqual([
      { level: 'info', msg: 'request', method: 'GET', path: '/sim/health', status: 503, bytes_in: 0, bytes_out: 17 },
      { level: 'info', msg: 'request', method: 'GET', path: '/json', query: 'x=1', status: 200, bytes_in: 0, bytes_out: 17 },
      { level: 'info', msg: 'request', user: 'ann', method: 'POST', path: '/private/echo', status: 201, bytes_in: 10, bytes_out: 10 },
      { level: 'info', msg: 'request', user: 'ann', method: 'GET', path: '/private/stream', status: 200, bytes_in: 0, bytes_out: 8 },
    ]);
    expect(lines.every((l) => typeof l.duration_ms === 'number')).toBe(true);
    // Only authenticated requests are kept, at most `perUser` per user, newest first.
    expect(log.recent('ann').map((r) => r.path)).toEqual(['/private/stream', '/private/echo']);
  });

  it('keeps the last N requests per user in a ring', () => {
    const log = new RequestLog(3);
    const entry = (n: number): RequestRecord => ({ time: '', method: 'GET', path: `/${n}`, status: 200, duration_ms: 0, bytes_in: 0, bytes_out: 0 });
    for (let n = 1; n <= 7; n++) log.record('u', entry(n));
    expect(log.recent('u').map((r) => r.path)).toEqual(['/7', '/6', '/5']);
    expect(log.recent('u', 2).map((r) => r.path)).toEqual(['/7', '/6']);
    expect(log.recent('nobody')).toEqual([]);
  });
});
