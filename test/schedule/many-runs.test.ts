import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NODE_NAMES } from '../../src/domain/nodes/node-schedule.ts';
import { HOUR, MINUTE, iso, startScheduleSim, wholeSecond, type ScheduleSim } from './_support.ts';

const USERS = ['alpha', 'bravo', 'charlie', 'delta'];
const RUNS = 1000;

describe('1,000 runs due at the same instant', () => {
  let sim: ScheduleSim;
  // Run i is due at base + i ms: distinct times, all past due after one advance.
  let base: number;
  const userOf = (i: number) => USERS[i % USERS.length]!;
  const podOf = (i: number) => `job-${i}`;
  const containerOf = (i: number) => `${userOf(i)}-${podOf(i)}`;

  beforeAll(async () => {
    sim = await startScheduleSim({ users: USERS });
    base = wholeSecond(sim.clock.now() + HOUR);
    // One request at a time per user (the 423 rule), the users side by side; each user
    // submits their runs in reverse order, so submission order cannot explain start order.
    await Promise.all(
      USERS.map(async (user, u) => {
        const mine = Array.from({ length: RUNS }, (_, i) => i).filter((i) => i % USERS.length === u).reverse();
        for (const i of mine) {
          const res = await sim.post(
            '/em/pod/run',
            { image: 'alpine:latest', max_duration: 600, node: NODE_NAMES[i % 3], pod_name: podOf(i), scheduled_time: iso(base + i) },
            user,
          );
          if (res.status !== 200) throw new Error(`run ${i}: ${res.status} ${JSON.stringify(res.body)}`);
        }
      }),
    );
  }, 120_000);
  afterAll(() => sim.close());

  it('starts none of them early', async () => {
    sim.clock.advance(base - MINUTE - sim.clock.now());
    await sim.clock.settle();
    expect(sim.runtime.runs).toHaveLength(0);
  });

  it('starts every one exactly once, in the order of their times', async () => {
    sim.clock.advance(base + RUNS + MINUTE - sim.clock.now());
    // No deadline of its own: should starts go missing, the test's timeout fails it.
    while (sim.runtime.runs.length < RUNS) await sim.clock.settle();
    await sim.clock.settle();

    const names = sim.runtime.runs.map((r) => r.name);
    expect(new Set(names).size).toBe(RUNS);
    expect(names).toEqual(Array.from({ length: RUNS }, (_, i) => containerOf(i)));
    for (const r of sim.runtime.runs) expect(r.at).toBeGreaterThanOrEqual(base);
    expect(sim.runtime.runningNames()).toHaveLength(RUNS);
  });

  it('shows them running, and time moving on starts none again', async () => {
    sim.clock.advance(HOUR);
    await sim.clock.settle();
    for (const i of [0, 1, 499, 998, 999]) expect(await sim.state(podOf(i), userOf(i))).toHaveProperty('running');
    expect(sim.runtime.runs).toHaveLength(RUNS);

    const nodes = await sim.post('/em/nodes/status', {}, 'alpha');
    expect((nodes.body.data as any[]).reduce((sum, n) => sum + n.pods, 0)).toBe(RUNS);
    expect((nodes.body.data as any[]).flatMap((n) => n.user_pods)).toHaveLength(RUNS / USERS.length);
  });
});
