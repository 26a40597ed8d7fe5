import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEADLINE_MESSAGE } from '../../src/domain/pods/pod-service.ts';
import { HOUR, MINUTE, iso, isoSeconds, startScheduleSim, wholeSecond, type ScheduleSim } from './_support.ts';

const run = (sim: ScheduleSim, fields: Record<string, unknown>, user?: string) =>
  sim.post('/em/pod/run', { image: 'alpine:latest', max_duration: 600, node: 'FPGA', ...fields }, user);

describe('scheduled runs on the simulated clock', () => {
  let sim: ScheduleSim;
  beforeAll(async () => {
    sim = await startScheduleSim();
  });
  afterAll(() => sim.close());

  it('does not start a run scheduled an hour ahead early, starts it once when the clock passes it', async () => {
    const due = wholeSecond(sim.clock.now() + HOUR);
    expect((await run(sim, { pod_name: 'later', scheduled_time: iso(due) })).status).toBe(200);

    expect(await sim.state('later')).toEqual({ waiting: { reason: 'Scheduled', message: `Scheduled to run at ${isoSeconds(due)} on node FPGA` } });
    expect(sim.runtime.runsOf('client1-later')).toHaveLength(0);

    // A minute before its time: still waiting.
    sim.clock.advance(due - MINUTE - sim.clock.now());
    await sim.clock.settle();
    expect(await sim.state('later')).toHaveProperty('waiting');
    expect(sim.runtime.runsOf('client1-later')).toHaveLength(0);

    sim.clock.advance(2 * MINUTE);
    const running = await sim.waitFor('later', 'running');
    const runs = sim.runtime.runsOf('client1-later');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.at).toBeGreaterThanOrEqual(due);
    expect(running).toEqual({ startedAt: isoSeconds(runs[0]!.at) });

    // Time moving on does not start it again.
    sim.clock.advance(HOUR);
    await sim.clock.settle();
    expect(await sim.state('later')).toHaveProperty('running');
    expect(sim.runtime.runsOf('client1-later')).toHaveLength(1);
  });

  it('stops a pod when its max_duration of simulated minutes has passed', async () => {
    expect((await run(sim, { pod_name: 'brief', max_duration: 30 })).status).toBe(200);
    const [started] = sim.runtime.runsOf('client1-brief');
    expect(started).toBeDefined();
    expect(await sim.state('brief')).toHaveProperty('running');

    sim.clock.advance(29 * MINUTE);
    await sim.clock.settle();
    expect(await sim.state('brief')).toHaveProperty('running');
    expect(sim.runtime.stops.filter((s) => s.name === 'client1-brief')).toHaveLength(0);

    sim.clock.advance(2 * MINUTE);
    const terminated = await sim.waitFor('brief', 'terminated');
    const stops = sim.runtime.stops.filter((s) => s.name === 'client1-brief');
    expect(stops).toHaveLength(1);
    expect(stops[0]!.at).toBeGreaterThanOrEqual(started!.at + 30 * MINUTE);
    expect(terminated).toMatchObject({ exitCode: 143, reason: 'Error', message: DEADLINE_MESSAGE, startedAt: isoSeconds(started!.at) });
  });

  it('runs a run whose scheduled_time has passed at once', async () => {
    const past = sim.clock.now() - HOUR;
    expect((await run(sim, { pod_name: 'overdue', scheduled_time: new Date(past).toISOString().replace('Z', '+00:00') })).status).toBe(200);
    // No clock movement at all: the run started before the answer came.
    expect(sim.runtime.runsOf('client1-overdue')).toHaveLength(1);
    expect(await sim.state('overdue')).toHaveProperty('running');
  });

  it('accepts a scheduled_time in another timezone as the same instant', async () => {
    const due = wholeSecond(sim.clock.now() + HOUR);
    // The same instant written at +02:00.
    const local = new Date(due + 2 * HOUR).toISOString().replace('.000Z', '+02:00');
    expect((await run(sim, { pod_name: 'zoned', scheduled_time: local })).status).toBe(200);
    expect(await sim.state('zoned')).toEqual({ waiting: { reason: 'Scheduled', message: `Scheduled to run at ${isoSeconds(due)} on node FPGA` } });
  });

  it('refuses a scheduled_time without a timezone with 400 INVALID_SCHEDULED_TIME', async () => {
    const res = await run(sim, { pod_name: 'naive', scheduled_time: '2030-05-22T12:10:00' });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      error: 'INVALID_SCHEDULED_TIME',
      message: 'scheduled_time "2030-05-22T12:10:00" is not an ISO 8601 time with a timezone, e.g. 2025-05-22T12:10:00+02:00',
    });
    const missing = await sim.get('/em/pod/status?pod_name=naive');
    expect(missing.status).toBe(404);
    expect(sim.runtime.runsOf('client1-naive')).toHaveLength(0);
  });

  it('replaces a scheduled run by a new run of the same pod name: the first never starts', async () => {
    const first = wholeSecond(sim.clock.now() + HOUR);
    const second = first + HOUR;
    expect((await run(sim, { pod_name: 'replaced', scheduled_time: iso(first), command: 'echo first' })).status).toBe(200);
    expect((await run(sim, { pod_name: 'replaced', scheduled_time: iso(second), command: 'echo second' })).status).toBe(200);

    sim.clock.advance(first + MINUTE - sim.clock.now());
    await sim.clock.settle();
    expect(sim.runtime.runsOf('client1-replaced')).toHaveLength(0);
    expect(await sim.state('replaced')).toEqual({ waiting: { reason: 'Scheduled', message: `Scheduled to run at ${isoSeconds(second)} on node FPGA` } });

    sim.clock.advance(HOUR);
    await sim.waitFor('replaced', 'running');
    const runs = sim.runtime.runsOf('client1-replaced');
    expect(runs).toHaveLength(1);
    expect(runs[0]!.spec.cmd).toEqual(['echo second']);
  });

  it('replaces a running pod: the old container goes, the new run starts once', async () => {
    expect((await run(sim, { pod_name: 'again', command: 'echo one' })).status).toBe(200);
    expect((await run(sim, { pod_name: 'again', command: 'echo two' })).status).toBe(200);
    const runs = sim.runtime.runsOf('client1-again');
    expect(runs.map((r) => r.spec.cmd)).toEqual([['echo one'], ['echo two']]);
    expect(sim.runtime.runningNames().filter((n) => n === 'client1-again')).toHaveLength(1);
    expect(sim.runtime.removed).toContain('client1-again');
  });

  it('starts a run that came due while the engine was unreachable once the engine is back', async () => {
    const due = wholeSecond(sim.clock.now() + HOUR);
    expect((await run(sim, { pod_name: 'engine-down', scheduled_time: iso(due) })).status).toBe(200);
    sim.runtime.isAvailable = false;
    sim.clock.advance(due + MINUTE - sim.clock.now());
    await sim.clock.settle();
    sim.runtime.isAvailable = true;
    for (let i = 0; i < 5; i++) {
      sim.clock.advance(MINUTE);
      await sim.clock.settle();
    }
    expect(await sim.state('engine-down')).toHaveProperty('running');
    expect(sim.runtime.runsOf('client1-engine-down')).toHaveLength(1);
  });
});
