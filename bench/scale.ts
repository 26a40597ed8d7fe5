import { Agent, setGlobalDispatcher } from 'undici';
import type { BenchContext } from './lib/context.ts';
import { startOnEngine } from './lib/engine-direct.ts';
import { rssBytes } from './lib/proc.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, startBenchSim } from './lib/sim.ts';
import { MiB, percentile, round, sleep } from './lib/stats.ts';

const USERS = 50;
const PODS = 10;

/**
 * 12. A class of 50 on one simulator (issue 16): 50 users each start 10 pods at once (500 pods,
 * `sleep 60` in alpine, arm64 under emulation where the machine has it), the time from each run
 * request to its pod's startedAt (p99, ±0.5 s: the status gives whole seconds), em-sim's peak
 * resident memory meanwhile, and then every pod's status asked at once (p99 of one answer; its
 * baseline as many /sim/health asked at once right after). Targets from what a class needs:
 * every student's pod running within a minute, a status answer within a second even then, em-sim
 * itself within 1 GiB. The pods are removed afterwards. The engine's own figure, the same 500
 * containers (each user's network, the node's limits, a volume) asked of it directly once em-sim
 * has gone (lib/engine-direct.ts), is the baseline: what the machine allows.
 */
export async function classScale(ctx: BenchContext): Promise<BenchResult[]> {
  const names = ['scale.pod_start_p99', 'scale.status_all_p99', 'memory.scale_peak_rss'];
  if (!(await dockerAvailable())) return names.map((n) => skipped(n, '', '', 'no Docker engine answers'));
  // A run request answers once its pod has started; with 500 at once on a slow engine that is
  // minutes: fetch's default five-minute header timeout must not end the measurement.
  setGlobalDispatcher(new Agent({ headersTimeout: 0, bodyTimeout: 0, connections: 2048 }));
  const sim = await startBenchSim({ log: { level: 'warn' } }, USERS - 1);
  const users = [sim.user, ...sim.others];
  let peak = rssBytes(sim.pid);
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(sim.pid))), 200);
  try {
    await Promise.all(users.map((u) => sim.tokenOf(u)));
    const started = performance.now();
    const startTimes: number[] = [];
    let retriedPolls = 0;
    await Promise.all(
      users.flatMap((user) =>
        Array.from({ length: PODS }, async (_, i) => {
          const asked = performance.now();
          const askedAt = Date.now();
          const res = await sim.fetchAs(user, '/em/pod/run', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ image: 'alpine:latest', node: 'GPU', max_duration: 5, command: 'sleep 60', pod_name: `p${i}` }),
          });
          if (res.status !== 200) throw new Error(`pod/run ${user}/p${i}: ${res.status} ${await res.text()}`);
          // The pod's own startedAt (whole seconds, wall clock) against when it was asked for: a
          // poll's own queueing does not count, and a pod already over is counted too.
          for (;;) {
            let body: { data?: { state: Record<string, { startedAt?: string }> } };
            try {
              body = (await (await sim.fetchAs(user, `/em/pod/status?pod_name=p${i}`)).json()) as typeof body;
            } catch (err) {
              // A poll on a keep-alive connection the server closed meanwhile ("fetch failed"), a
              // race of HTTP/1.1 itself: polls are idempotent, so it is asked again and counted.
              retriedPolls++;
              if (retriedPolls > 100) throw err;
              await sleep(500);
              continue;
            }
            const state = body.data?.state.running ?? body.data?.state.terminated;
            if (state?.startedAt) {
              startTimes.push(Math.max(0, (Date.parse(state.startedAt) + 500 - askedAt) / 1000));
              break;
            }
            if (performance.now() - asked > 900_000) throw new Error(`${user}/p${i} not started after 15 minutes: ${JSON.stringify(body)}`);
            await sleep(500);
          }
        }),
      ),
    );
    ctx.log(`scale: ${USERS * PODS} pods running after ${round((performance.now() - started) / 1000, 1)} s; start p50 ${round(percentile(startTimes, 50), 1)} s, p99 ${round(percentile(startTimes, 99), 1)} s (${retriedPolls} status polls asked again after a dropped connection)`);

    const statusTimes: number[] = [];
    await Promise.all(
      users.flatMap((user) =>
        Array.from({ length: PODS }, async (_, i) => {
          const t = performance.now();
          const res = await sim.fetchAs(user, `/em/pod/status?pod_name=p${i}`);
          await res.arrayBuffer();
          if (res.status !== 200) throw new Error(`status ${user}/p${i}: ${res.status}`);
          statusTimes.push(performance.now() - t);
        }),
      ),
    );
    // The floor at that moment: as many requests at once that need neither a token nor the
    // engine, to the same server while the same containers run (what the machine allows).
    const healthTimes = await Promise.all(
      Array.from({ length: USERS * PODS }, async () => {
        const t = performance.now();
        const res = await sim.fetch('/sim/health');
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`sim/health: ${res.status}`);
        return performance.now() - t;
      }),
    );
    ctx.log(
      `scale: ${USERS * PODS} statuses at once: p50 ${round(percentile(statusTimes, 50), 0)} ms, p99 ${round(percentile(statusTimes, 99), 0)} ms; ` +
        `${USERS * PODS} /sim/health at once: p50 ${round(percentile(healthTimes, 50), 0)} ms, p99 ${round(percentile(healthTimes, 99), 0)} ms; em-sim peak RSS ${round(peak / MiB, 0)} MiB`,
    );
    clearInterval(sampler);
    await sim.close().catch(() => undefined);
    // The peer: the same 500 containers asked of the engine directly, at once.
    const engine = await startOnEngine(
      users.flatMap((user) => Array.from({ length: PODS }, (_, i) => ({ user, pod: `p${i}`, node: 'GPU' as const }))),
      ['sleep', '60'],
    );
    ctx.log(`scale: the engine alone started ${USERS * PODS} containers: p50 ${round(percentile(engine, 50), 1)} s, p99 ${round(percentile(engine, 99), 1)} s`);
    return [
      result('scale.pod_start_p99', percentile(startTimes, 99), 's', percentile(engine, 99), { below: 60 }, `${USERS} users × ${PODS} pods asked at once, run request to running; baseline: the same ${USERS * PODS} containers (networks, limits, volume) asked of the engine directly through em-sim's Docker adapter`),
      result('scale.status_all_p99', percentile(statusTimes, 99), 'ms', percentile(healthTimes, 99), { below: 1000 }, `all ${USERS * PODS} running pods' statuses asked at once; baseline: ${USERS * PODS} GET /sim/health at once right after (no token, no engine)`),
      result('memory.scale_peak_rss', round(peak / MiB, 0), 'MiB', null, { below: 1024 }, `em-sim's peak while ${USERS * PODS} pods started and ran`),
    ];
  } finally {
    clearInterval(sampler);
    await sim.close().catch(() => undefined);
  }
}
