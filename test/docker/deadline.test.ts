import type Docker from 'dockerode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSim, uniqueName, type TestSim } from '../helpers/sim.ts';
import { cleanupDocker, downlink, IMAGES, podStatus, requireDocker, run, waitForState } from './_docker.ts';

// max_duration and scheduling on a real engine, played out on an advanced clock.

describe('the clock on a real engine', () => {
  let docker: Docker;
  let sim: TestSim;
  const user = uniqueName('d');

  beforeAll(async () => {
    docker = await requireDocker();
    // Tokens expire on the simulated clock too; these outlive the hours the test plays.
    sim = await startSim({ users: [user], config: { clock: { control: true }, auth: { access_token_lifetime: 30 * 86400, refresh_token_lifetime: 60 * 86400 } } });
  });
  afterAll(async () => {
    if (sim) await cleanupDocker(docker, sim.running.sim.instanceId, [user]);
    await sim?.close();
  });

  const advance = async (seconds: number) => {
    const res = await sim.fetch('/sim/clock', { user, method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ advance_seconds: seconds }) });
    expect(res.status).toBe(200);
  };

  it('stops a pod gracefully when 30 simulated minutes of max_duration pass', async () => {
    // The pod handles SIGTERM like a well-behaved workload: it saves its state and exits 0.
    await run(sim, user, {
      image: IMAGES.alpine,
      pod_name: 'long-job',
      max_duration: 30,
      command: "trap 'echo saved > /data/state.txt; exit 0' TERM; echo working > /data/state.txt; while true; do sleep 1; done",
    });
    await waitForState(sim, user, 'long-job', 'running');
    await advance(29 * 60);
    expect((await podStatus(sim, user, 'long-job')).body.data.state).toHaveProperty('running');

    await advance(2 * 60);
    const stopped = await waitForState(sim, user, 'long-job', 'terminated', 30_000);
    expect(stopped).toMatchObject({ exitCode: 0, reason: 'Completed', message: 'Pod was active on the node longer than the specified deadline' });
    expect(await downlink(sim, user, 'state.txt', 'long-job')).toEqual({ status: 200, text: 'saved\n' });
  });

  it('starts a run scheduled an hour ahead only when the clock passes it, once', async () => {
    const at = new Date(sim.running.sim.clock.now() + 3600_000).toISOString();
    await run(sim, user, { image: IMAGES.alpine, pod_name: 'hourly', scheduled_time: at, command: 'date >> /data/runs.txt' });
    const waiting = (await podStatus(sim, user, 'hourly')).body.data.state.waiting;
    expect(waiting.reason).toBe('Scheduled');
    expect(waiting.message).toContain('on node FPGA');

    await advance(3500);
    expect((await podStatus(sim, user, 'hourly')).body.data.state.waiting.reason).toBe('Scheduled');
    expect((await docker.listContainers({ all: true, filters: { name: [`${user}-hourly`] } })).length).toBe(0);

    await advance(200);
    await waitForState(sim, user, 'hourly', 'terminated');
    expect((await downlink(sim, user, 'runs.txt', 'hourly')).text.trim().split('\n')).toHaveLength(1);
  });
});
