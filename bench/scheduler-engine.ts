import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Agent, setGlobalDispatcher } from 'undici';
import type { BenchContext } from './lib/context.ts';
import { startOnEngine } from './lib/engine-direct.ts';
import { run } from './lib/proc.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, startBenchSim, type BenchSim } from './lib/sim.ts';
import { percentile, round, sleep } from './lib/stats.ts';

const RUNS = 1000;
const USERS = 10;
const NODES = ['MPU', 'GPU', 'FPGA'] as const;
/** How long either side may take to start everything before the benchmark gives up. */
const GIVE_UP_MS = 40 * 60_000;

interface PodView {
  pod_name: string;
  generation: number;
  state: Record<string, { startedAt?: string; exitCode?: number; reason?: string }>;
}

/**
 * 6b. 1,000 runs due in the same second on the real engine (issue 16): ten users schedule 100
 * pods each (alpine `true`, arm64 where emulated) for one instant an hour ahead, the clock is set
 * to that instant, and each pod's lateness is its startedAt minus the instant (whole seconds, as
 * the status gives them). Nothing may be lost (every pod terminated, exit 0, once) or doubled
 * (one container per pod on the engine). The peer, measured in the same run: the same 1,000
 * containers (each user's network, the node's limits, a volume; lib/engine-direct.ts) created
 * and started on the engine directly, all at once, their lateness from
 * State.StartedAt. The engine starts containers one after another, so both figures are mostly
 * its own throughput; the target is em-sim within a quarter of it.
 */
export async function schedulerOnEngine(ctx: BenchContext): Promise<BenchResult[]> {
  const names = ['scheduler.engine1000.lateness_p99', 'scheduler.engine1000.lost_or_doubled'];
  if (!(await dockerAvailable())) return names.map((n) => skipped(n, '', '', 'no Docker engine answers'));
  setGlobalDispatcher(new Agent({ headersTimeout: 0, bodyTimeout: 0, connections: 256 }));
  const sim = await startBenchSim({ clock: { control: true } }, USERS - 1);
  let emSim: { lateness: number[]; lost: number; doubled: number; wallSeconds: number };
  try {
    emSim = await throughEmSim(ctx, sim);
  } finally {
    await sim.close().catch(() => undefined);
  }
  const engine = await startOnEngine(
    Array.from({ length: RUNS }, (_, k) => {
      const u = k % USERS;
      const i = Math.floor(k / USERS);
      return { user: u === 0 ? sim.user : sim.others[u - 1]!, pod: `r${i}`, node: NODES[(u + i) % NODES.length]! };
    }),
    ['true'],
  );
  ctx.log(`scheduler on the engine: the engine alone started ${RUNS} containers within ${round(Math.max(...engine), 0)} s`);
  const p99 = percentile(emSim.lateness, 99);
  ctx.log(
    `scheduler on the engine: em-sim lateness p50 ${percentile(emSim.lateness, 50)} s, p99 ${p99} s (all started within ${round(emSim.wallSeconds, 0)} s); ` +
      `engine directly p50 ${round(percentile(engine, 50), 1)} s, p99 ${round(percentile(engine, 99), 1)} s; lost ${emSim.lost}, doubled ${emSim.doubled}`,
  );
  return [
    result(names[0]!, p99, 's', percentile(engine, 99), { ratioAtMost: 1.25 }, `${RUNS} runs of ${USERS} users due at one instant, to startedAt (whole seconds); baseline: the same ${RUNS} containers (networks, limits, volume) started on the engine directly through em-sim's Docker adapter, all at once`),
    result(names[1]!, emSim.lost + emSim.doubled, 'runs', null, { below: 1 }, `runs not terminated once with exit 0 (${emSim.lost}), runs with more than one container (${emSim.doubled})`),
  ];
}

async function throughEmSim(ctx: BenchContext, sim: BenchSim): Promise<{ lateness: number[]; lost: number; doubled: number; wallSeconds: number }> {
  const users = [sim.user, ...sim.others];
  const clock = (await (await sim.fetch('/sim/clock')).json()) as { data: { now: string } };
  const due = Math.ceil((Date.parse(clock.data.now) + 3_600_000) / 1000) * 1000;
  const scheduling = performance.now();
  // Ten requests at a time: each user's runs one after another, as a client would send them.
  await Promise.all(
    users.map(async (user, u) => {
      for (let i = 0; i < RUNS / USERS; i++) {
        const res = await sim.fetchAs(user, '/em/pod/run', {
          method: 'POST',
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ image: 'alpine:latest', node: NODES[(u + i) % NODES.length], max_duration: 60, command: 'true', pod_name: `r${i}`, scheduled_time: new Date(due).toISOString() }),
        });
        if (res.status !== 200) throw new Error(`pod/run ${user}/r${i}: ${res.status} ${await res.text()}`);
      }
    }),
  );
  ctx.log(`scheduler on the engine: ${RUNS} runs scheduled in ${round((performance.now() - scheduling) / 1000, 1)} s; setting the clock to their instant`);
  const set = await sim.fetch('/sim/clock', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ set: new Date(due).toISOString() }) });
  if (set.status !== 200) throw new Error(`sim/clock: ${set.status} ${await set.text()}`);
  const fired = performance.now();

  let pods: PodView[] = [];
  for (let done = 0; ; ) {
    if (performance.now() - fired > GIVE_UP_MS) throw new Error(`em-sim: ${done} of ${RUNS} runs terminated after ${GIVE_UP_MS / 60_000} minutes`);
    try {
      pods = (await Promise.all(users.map(async (user) => ((await (await sim.fetchAs(user, '/sim/pods')).json()) as { data: PodView[] }).data))).flat();
    } catch (err) {
      // A poll that fails while em-sim runs (a kept-alive connection the server closed as it was
      // reused) is logged and made again; one em-sim's exit failed ends the benchmark with its output.
      const gone = sim.gone();
      if (gone) throw new Error(gone);
      ctx.log(`scheduler on the engine: a poll failed, polling again: ${(err as Error).message} (${String((err as Error).cause ?? '')})`);
      await sleep(2000);
      continue;
    }
    done = pods.filter((p) => p.state.terminated).length;
    if (done === RUNS) break;
    await sleep(2000);
  }
  const wallSeconds = (performance.now() - fired) / 1000;
  const lateness = pods.map((p) => (Date.parse(p.state.terminated!.startedAt!) - due) / 1000);
  const lost = RUNS - pods.filter((p) => p.state.terminated!.exitCode === 0 && p.generation === 1).length;
  // One container per pod on the engine: a doubled start would leave two with one pod label.
  const instance = readFileSync(path.join(sim.dataDir, 'instance-id'), 'utf8').trim();
  const labels = (await run('docker', ['ps', '-a', '--filter', `label=em-sim.instance=${instance}`, '--filter', 'label=em-sim.pod', '--format', '{{.Label "em-sim.user"}}/{{.Label "em-sim.pod"}}'])).stdout
    .split('\n')
    .filter(Boolean);
  const perPod = new Map<string, number>();
  for (const l of labels) perPod.set(l, (perPod.get(l) ?? 0) + 1);
  const doubled = [...perPod.values()].filter((n) => n > 1).length;
  if (perPod.size !== RUNS) ctx.log(`scheduler on the engine: ${perPod.size} pods have containers on the engine (expected ${RUNS})`);
  return { lateness, lost, doubled, wallSeconds };
}
