import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HOUR, MINUTE, iso, isoSeconds, startScheduleSim, wholeSecond, type ScheduleSim } from './_support.ts';

const run = (sim: ScheduleSim, fields: Record<string, unknown>, user?: string) =>
  sim.post('/em/pod/run', { image: 'alpine:latest', max_duration: 600, ...fields }, user);

const nodeOf = (body: any, node: string) => (body.data as any[]).find((n) => n.node === node);

describe('node availability windows', () => {
  let sim: ScheduleSim;
  // The GPU is powered for one hour, starting an hour from now; FPGA and MPU always.
  const gpuOn = wholeSecond(Date.now() + HOUR);
  const gpuOff = gpuOn + HOUR;

  beforeAll(async () => {
    sim = await startScheduleSim({
      users: ['other'],
      config: { nodes: { GPU: { cpus: 2, memory_mb: 4096, availability: [{ start: iso(gpuOn), end: iso(gpuOff) }] } } },
    });
  });
  afterAll(() => sim.close());

  it('holds a run for a node that is off, naming the node and when it comes back, then starts it when it powers on', async () => {
    expect((await run(sim, { node: 'GPU', pod_name: 'gpu-job' })).status).toBe(200);
    const waiting = (await sim.state('gpu-job')).waiting;
    expect(waiting).toBeDefined();
    expect(waiting.message).toContain('GPU');
    expect(waiting.message).toContain(isoSeconds(gpuOn));
    expect(sim.runtime.runsOf('client1-gpu-job')).toHaveLength(0);

    const off = await sim.post('/em/nodes/status', {});
    expect(off.status).toBe(200);
    expect(nodeOf(off.body, 'GPU')).toEqual({
      node: 'GPU',
      available: false,
      until: iso(gpuOn),
      limits: { cpus: 2, memory_mb: 4096 },
      free: { cpus: 2, memory_mb: 4096 },
      pods: 0,
      user_pods: [],
    });

    sim.clock.advance(gpuOn + MINUTE - sim.clock.now());
    await sim.waitFor('gpu-job', 'running');
    const runs = sim.runtime.runsOf('client1-gpu-job');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.at).toBeGreaterThanOrEqual(gpuOn);
    // The pod runs with its node's limits.
    expect(runs[0]!.spec).toMatchObject({ cpus: 2, memoryBytes: 4096 * 1024 * 1024 });
  });

  it('reports the running pod on its node: whose, how many, and nothing free', async () => {
    expect((await run(sim, { node: 'GPU', pod_name: 'theirs' }, 'other')).status).toBe(200);
    for (const method of ['POST', 'GET'] as const) {
      const res = method === 'POST' ? await sim.post('/em/nodes/status', {}) : await sim.get('/em/nodes/status');
      expect(res.status).toBe(200);
      expect(res.body.message).toBe('Successfully fetched nodes status');
      expect((res.body.data as any[]).map((n) => n.node)).toEqual(['FPGA', 'GPU', 'MPU']);
      expect(nodeOf(res.body, 'GPU')).toEqual({
        node: 'GPU',
        available: true,
        until: iso(gpuOff),
        limits: { cpus: 2, memory_mb: 4096 },
        free: { cpus: 0, memory_mb: 0 },
        pods: 2,
        user_pods: ['gpu-job'],
      });
      expect(nodeOf(res.body, 'FPGA')).toMatchObject({ available: true, until: null, pods: 0, user_pods: [], free: nodeOf(res.body, 'FPGA').limits });
    }
    const theirs = await sim.post('/em/nodes/status', {}, 'other');
    expect(nodeOf(theirs.body, 'GPU')).toMatchObject({ pods: 2, user_pods: ['theirs'] });
  });

  it('stops a running pod when its node goes away, and says so', async () => {
    sim.clock.advance(gpuOff + MINUTE - sim.clock.now());
    const terminated = await sim.waitFor('gpu-job', 'terminated');
    expect(terminated.message).toBe('Node GPU became unavailable (powered off); the pod was stopped');
    expect(sim.runtime.stops.map((s) => s.name)).toContain('client1-gpu-job');
    expect(await sim.waitFor('theirs', 'terminated', 'other')).toHaveProperty('message', terminated.message);

    const res = await sim.post('/em/nodes/status', {});
    // The window was the last one: the GPU stays off.
    expect(nodeOf(res.body, 'GPU')).toMatchObject({ available: false, until: null, pods: 0, user_pods: [] });
  });
});

describe('node outages with on_unavailable: continue', () => {
  it('lets a running pod run on when its node powers off', async () => {
    const mpuOff = wholeSecond(Date.now() + HOUR);
    await using sim = await startScheduleSim({
      config: { nodes: { on_unavailable: 'continue', MPU: { availability: [{ start: iso(mpuOff - 2 * HOUR), end: iso(mpuOff) }] } } },
    });
    expect((await run(sim, { node: 'MPU', pod_name: 'stays' })).status).toBe(200);
    expect(await sim.state('stays')).toHaveProperty('running');
    sim.clock.advance(mpuOff + MINUTE - sim.clock.now());
    await sim.clock.settle();
    expect(await sim.state('stays')).toHaveProperty('running');
    expect(sim.runtime.stops).toHaveLength(0);
  });
});

describe('the reason a held-back run shows', () => {
  it('says NodeUnavailable, not Scheduled, for a due run waiting for its node', async () => {
    const back = wholeSecond(Date.now() + HOUR);
    await using sim = await startScheduleSim({ config: { nodes: { MPU: { availability: [{ start: iso(back), end: iso(back + HOUR) }] } } } });
    expect((await run(sim, { node: 'MPU', pod_name: 'held' })).status).toBe(200);
    expect(await sim.state('held')).toEqual({
      waiting: { reason: 'NodeUnavailable', message: `Node MPU is unavailable; it becomes available at ${isoSeconds(back)}. The pod will start then.` },
    });
  });
});

describe('nodes that never come back', () => {
  it('reports a run for a node with no window ahead as waiting, not as a 500', async () => {
    await using sim = await startScheduleSim({
      config: { nodes: { FPGA: { availability: [{ start: '2001-01-01T00:00:00Z', end: '2001-01-02T00:00:00Z' }] } } },
    });
    expect((await run(sim, { node: 'FPGA', pod_name: 'never' })).status).toBe(200);
    const res = await sim.get('/em/pod/status?pod_name=never');
    expect(res.status).toBe(200);
    expect(res.body.data.state.waiting).toEqual({
      reason: 'NodeUnavailable',
      message: 'Node FPGA is unavailable; no availability window is configured ahead. The pod will start then.',
    });
  });
});
