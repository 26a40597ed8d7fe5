import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, type TestSim } from '../helpers/sim.ts';

// The onboard services' own APIs from the host (/sim/services/SERVICE/…), the same apps pods
// reach: the answers and refusals that need no pod, and what is metered.

describe('/sim/services from the host', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim({ users: ['second'] });
  });
  afterAll(async () => sim?.close());

  const json = async (path: string, init?: RequestInit & { user?: string }) => {
    const res = await sim.fetch(path, init);
    return { status: res.status, body: await res.json() };
  };
  const post = (path: string, body: unknown, user?: string) =>
    json(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...(user ? { user } : {}) });

  it('telemetry takes back the times it gives ("Z"), and refuses a day the month does not have as PostgreSQL would', async () => {
    const latest = await json('/sim/services/telemetry/api/telemetry/latest?data_type=position');
    const at: string = latest.body.data[0].timestamp;
    const same = await json(`/sim/services/telemetry/api/telemetry?start_time=${at}&end_time=${at}&data_type=position`);
    expect(same).toMatchObject({ status: 200, body: { success: true, count: 1, data: [{ timestamp: at, data: latest.body.data[0].data }] } });
    const offset = await json(`/sim/services/telemetry/api/telemetry?start_time=${encodeURIComponent(at.replace('Z', '+00:00'))}&limit=2`);
    expect(offset.body.count).toBe(2);
    expect(await json('/sim/services/telemetry/api/telemetry?start_time=2026-02-30')).toEqual({
      status: 500,
      body: { success: false, data: null, error: 'Database error: invalid input syntax for type timestamp with time zone: "2026-02-30"', count: null },
    });
  });

  it('the whole request is read before anything is answered or billed; a huge keep_alive means loaded until unloaded', async () => {
    const refused = await post('/sim/services/ollama/api/generate', { model: 'gemma3:4b', prompt: 'x', stream: 'no' }, 'second');
    expect(refused).toEqual({ status: 400, body: { error: 'json: cannot unmarshal string into Go struct field GenerateRequest.stream of type bool' } });
    expect((await json('/sim/services/usage', { user: 'second' })).body.data).toEqual([]);

    expect((await post('/sim/services/ollama/api/generate', { model: 'llava:7b', prompt: '', keep_alive: 1e15 }, 'second')).body).toMatchObject({ done: true, done_reason: 'load' });
    expect(await json('/sim/services/ollama/api/ps', { user: 'second' })).toMatchObject({ status: 200, body: { models: [{ name: 'llava:7b', expires_at: '2318-01-01T00:00:00Z' }] } });
  });

  it('a prompt longer than the context window counts as the window, and its context stays that size', async () => {
    const long = 'word '.repeat(200_000);
    const answer = await post('/sim/services/ollama/api/generate', { model: 'gemma3:4b', prompt: long, stream: false });
    expect(answer.status).toBe(200);
    expect(answer.body.prompt_eval_count).toBe(4096);
    expect(answer.body.context.length).toBe(4096 + answer.body.eval_count);
    const wider = await post('/sim/services/ollama/api/generate', { model: 'gemma3:4b', prompt: long, stream: false, options: { num_ctx: 8192 } });
    expect(wider.body.prompt_eval_count).toBe(8192);
  });

  it('embeddings in batches of at most 512 inputs, with a message that says so', async () => {
    const many = await post('/sim/services/ollama/api/embed', { model: 'gemma3:4b', input: Array(513).fill('a') });
    expect(many).toEqual({ status: 400, body: { error: 'em-sim embeds at most 512 inputs per request (got 513); send them in batches' } });
  });

  it('a body larger than a service reads is refused before it is read', async () => {
    // Declares 80 MB, sends 1 KB: the answer comes without waiting for the rest.
    const token = await sim.token();
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${sim.url}/sim/services/ollama/api/generate`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Length': String(80 * 1024 * 1024) },
      });
      req.on('response', (res) => {
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.write('x'.repeat(1024));
    });
    expect(status).toBe(413);
  });

  it('a service turned off is named in the answer', async () => {
    await using off = await startSim({ config: { services: { liquidai: { enabled: false } } } });
    const res = await off.fetch('/sim/services/liquidai/health');
    expect({ status: res.status, body: await res.json() }).toEqual({ status: 404, body: { error: 'NOT_FOUND', message: 'The liquidai service is turned off (services.liquidai.enabled)' } });
    const status = await (await off.fetch('/sim/services')).json();
    expect(status.data.services.find((s: { service: string }) => s.service === 'liquidai')).toMatchObject({ enabled: false });
    expect(status.data.names_in_pods).not.toContain('liquid-3b.dphi-public');
  });
});
