import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduleSim, type ScheduleSim } from './_support.ts';

const USERS = ['alpha', 'bravo', 'charlie', 'delta'];
const PODS = 10;

// Issue 16: a class polling all its pods at once must not cost the engine one inspect per pod.
describe('status polls of many running pods', () => {
  let sim: ScheduleSim;
  const pods = USERS.flatMap((user) => Array.from({ length: PODS }, (_, i) => ({ user, pod: `p${i}` })));

  beforeAll(async () => {
    sim = await startScheduleSim({ users: USERS });
    await Promise.all(
      USERS.map(async (user) => {
        for (let i = 0; i < PODS; i++) {
          const res = await sim.post('/em/pod/run', { image: 'alpine:latest', max_duration: 600, node: 'GPU', pod_name: `p${i}` }, user);
          if (res.status !== 200) throw new Error(`run ${user}/p${i}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }),
    );
  });
  afterAll(() => sim.close());

  it('share one listing of the running containers instead of inspecting each', async () => {
    sim.runtime.calls.inspect = 0;
    sim.runtime.calls.listContainers = 0;
    const states = await Promise.all(pods.map(({ user, pod }) => sim.state(pod, user)));
    for (const state of states) expect(state).toHaveProperty('running');
    expect(sim.runtime.calls.listContainers).toBe(1);
    expect(sim.runtime.calls.inspect).toBe(0);
  });

  it('still see, within a second, a container that ended without the engine saying so', async () => {
    sim.runtime.exitUnseen('charlie-p3', 3);
    await sleep(1100);
    sim.runtime.calls.inspect = 0;
    const states = await Promise.all(pods.map(({ user, pod }) => sim.state(pod, user)));
    const ended = states.filter((s) => 'terminated' in s);
    expect(ended).toEqual([{ terminated: expect.objectContaining({ exitCode: 3, reason: 'Error' }) }]);
    expect(states[USERS.indexOf('charlie') * PODS + 3]).toHaveProperty('terminated');
    // Only the one missing from the listing was asked about on its own.
    expect(sim.runtime.calls.inspect).toBe(1);
  });
});
