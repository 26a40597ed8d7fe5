import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startScheduleSim, type ScheduleSim } from './_support.ts';

const USERS = ['alpha', 'bravo', 'charlie', 'delta'];
const PODS = 10;

// Issue 16: a class polling all its pods at once must not cost the engine one inspect per pod,
// nor wait for an engine busy starting other containers.
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

  it('cost the engine one listing of the running containers, not an inspect each', async () => {
    sim.runtime.calls.inspect = 0;
    sim.runtime.calls.listContainers = 0;
    const states = await Promise.all(pods.map(({ user, pod }) => sim.state(pod, user)));
    for (const state of states) expect(state).toHaveProperty('running');
    await sleep(50);
    expect(sim.runtime.calls.listContainers).toBe(1);
    expect(sim.runtime.calls.inspect).toBe(0);
  });

  it('answer at once while the engine is slow to list its containers', async () => {
    let release!: () => void;
    sim.runtime.listingHeld = new Promise((resolve) => (release = resolve));
    try {
      await sleep(1100);
      const states = await Promise.all(pods.map(({ user, pod }) => sim.state(pod, user)));
      for (const state of states) expect(state).toHaveProperty('running');
    } finally {
      sim.runtime.listingHeld = null;
      release();
    }
  });

  it('still show, about a second later, a container that ended without the engine saying so', async () => {
    sim.runtime.exitUnseen('charlie-p3', 3);
    await sleep(1100);
    sim.runtime.calls.inspect = 0;
    // The poll answers at once; the check it asked for finds the exit.
    await Promise.all(pods.map(({ user, pod }) => sim.state(pod, user)));
    let state = await sim.state('p3', 'charlie');
    for (let i = 0; i < 40 && !('terminated' in state); i++) {
      await sleep(50);
      state = await sim.state('p3', 'charlie');
    }
    expect(state).toEqual({ terminated: expect.objectContaining({ exitCode: 3, reason: 'Error' }) });
    const states = await Promise.all(pods.map(({ user, pod }) => sim.state(pod, user)));
    expect(states.filter((s) => 'terminated' in s)).toHaveLength(1);
    // Only the one missing from the listing was asked about on its own.
    expect(sim.runtime.calls.inspect).toBe(1);
  });
});
