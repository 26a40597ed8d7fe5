import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExecutionRecord } from '../../src/domain/operations/execution.ts';
import { HOUR, iso, startScheduleSim, wholeSecond, type ScheduleSim } from './_support.ts';

/*
 * Operations on the simulated clock (issue 12): busy windows and node windows apply to an
 * execution's tasks as they do to the EM API, and every state change is timed on that clock.
 */

describe('operations on the simulated clock', () => {
  let sim: ScheduleSim;
  const start = wholeSecond(Date.now());
  const busyEnd = start + HOUR;
  const gpuOn = start + 2 * HOUR;

  beforeAll(async () => {
    sim = await startScheduleSim({
      config: {
        busy_windows: [{ start: iso(start - HOUR), end: iso(busyEnd) }],
        nodes: { GPU: { cpus: 2, memory_mb: 4096, availability: [{ start: iso(gpuOn), end: iso(gpuOn + HOUR) }] } },
      },
    });
  });
  afterAll(() => sim.close());

  const record = async (id: string) => (await sim.get(`/sim/executions/${id}`)).body as ExecutionRecord;
  const until = async (id: string, done: (r: ExecutionRecord) => boolean) => {
    for (;;) {
      const r = await record(id);
      if (done(r)) return r;
      await sim.clock.settle();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };

  it('waits SCHEDULED through a busy window and for a powered-off node, then runs', async () => {
    const yaml = `id: windows
tasks:
  - id: list
    type: dphi.space.cg2.files.list
  - id: gpu_job
    type: dphi.space.cg2.pod.run
    pod_name: gpu-job
    image: alpine:latest
    node: GPU
`;
    const submitted = await sim.fetch('/sim/executions', { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
    expect(submitted.status).toBe(201);
    const { id } = (await submitted.json()) as ExecutionRecord;

    // CG2 is busy: the first task waits, saying until when.
    let r = await until(id, (x) => x.tasks[0]!.logs.length > 0);
    expect(r.tasks[0]).toMatchObject({ state: 'SCHEDULED', logs: [expect.objectContaining({ message: expect.stringContaining(`CG2 is busy until ${iso(busyEnd)}`) })] });

    // The window ends: the listing runs; the GPU is still off, so the pod task waits for it.
    sim.clock.advance(busyEnd - sim.clock.now() + 1000);
    r = await until(id, (x) => x.tasks[1]!.logs.some((l) => l.message.startsWith('NodeUnavailable')));
    expect(r.tasks[0]!.state).toBe('SUCCESS');
    expect(Date.parse(r.tasks[0]!.ended!)).toBeGreaterThanOrEqual(busyEnd);
    expect(r.tasks[1]!.state).toBe('SCHEDULED');
    expect(sim.runtime.runsOf('client1-gpu-job')).toHaveLength(0);

    // The GPU powers on: the pod starts, and ends Completed.
    sim.clock.advance(gpuOn - sim.clock.now() + 1000);
    r = await until(id, (x) => x.tasks[1]!.state === 'RUNNING');
    expect(sim.runtime.runsOf('client1-gpu-job')).toHaveLength(1);
    sim.runtime.exit(sim.runtime.runningNames().find((n) => n.startsWith('client1-gpu-job'))!, 0);
    r = await until(id, (x) => x.state === 'COMPLETED');
    expect(Date.parse(r.tasks[1]!.started!)).toBeGreaterThanOrEqual(gpuOn);
    expect(r.tasks[1]!.state_history.map((h) => h.state)).toEqual(['CREATED', 'SCHEDULED', 'RUNNING', 'SUCCESS']);
  });
});

describe('an execution submitted as the simulator starts', () => {
  // The server answers before the start's resumption of unfinished executions (simulator.ts);
  // one submitted meanwhile is unfinished then, but already driven: a second drive would queue
  // behind the first and take its place in the bookkeeping, so that a kill (or a stop) reached
  // the idle second one and waited for the first to end by itself.
  it('is driven once: its pod starts once, and a kill ends it at once', async () => {
    const sim = await startScheduleSim();
    try {
      const yaml = `id: early
tasks:
  - id: job
    type: dphi.space.cg2.pod.run
    pod_name: early-job
    image: alpine:latest
`;
      const submitted = await sim.fetch('/sim/executions', { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
      expect(submitted.status).toBe(201);
      const { id } = (await submitted.json()) as ExecutionRecord;
      const record = async () => (await sim.get(`/sim/executions/${id}`)).body as ExecutionRecord;
      while ((await record()).tasks[0]!.state !== 'RUNNING') await new Promise((resolve) => setTimeout(resolve, 10));
      // The start's resumption has run, with the execution still unfinished.
      await sim.running.sim.ready;
      expect(sim.runtime.runsOf('client1-early-job')).toHaveLength(1);
      const killed = await sim.fetch(`/sim/executions/${id}/kill`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      expect(killed.status).toBe(200);
      const r = (await killed.json()) as ExecutionRecord;
      expect(r.state).toBe('KILLED');
      expect(r.tasks[0]!.state_history.map((h) => h.state)).toEqual(['CREATED', 'SCHEDULED', 'RUNNING', 'KILLED']);
      expect(r.tasks[0]!.logs.map((l) => l.message)).not.toContainEqual(expect.stringContaining('restarted'));
      expect(sim.runtime.runsOf('client1-early-job')).toHaveLength(1);
    } finally {
      await sim.close();
    }
  });
});
