import { startBaseline } from './lib/baseline.ts';
import { PRISM_VERSION, startPrism, type Prism } from './lib/prism.ts';
import { rssBytes } from './lib/proc.ts';
import { load, type LoadResult } from './lib/load.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, SECRET, startBenchSim, type BenchSim } from './lib/sim.ts';
import { median, MiB, round, sleep } from './lib/stats.ts';
import type { BenchContext } from './lib/context.ts';

const CONNECTIONS = 50;
const SECONDS = 5;
const WARMUP_SECONDS = 1;
const ROUNDS = 3;

/** The round with the median requests per second, its p50 and p99 being the median's of every round. */
function medianRound<T extends LoadResult>(rounds: T[]): T {
  const byRate = [...rounds].sort((a, b) => a.rps - b.rps);
  return { ...byRate[Math.floor(byRate.length / 2)]!, p50: median(rounds.map((r) => r.p50)), p99: median(rounds.map((r) => r.p99)) };
}

function sum(rounds: LoadResult[], key: 'non2xx' | 'errors'): number {
  return rounds.reduce((n, r) => n + r[key], 0);
}

/**
 * 1. API overhead: GET /em/files/list (a volume of 10 files) and GET /em/pod/status (a pod that
 * has run and exited) under 50 connections. files/list is compared with a bare Hono server that
 * verifies the same JWT on every request; pod/status with a bare Hono server that checks nothing
 * (issue 16: a poll should cost no more than what changes between two polls). The peer a contract
 * tester would otherwise pick, Prism mocking the provider's Swagger, is loaded with the same
 * files/list request (the Swagger has no /em/pod/status). Each measurement is paired with its
 * baseline's, taken right before it; em-sim's resident memory is read idle and during each load.
 */
export async function apiOverhead(ctx: BenchContext): Promise<BenchResult[]> {
  const sim = await startBenchSim();
  const jwt = await startBaseline('jwt', SECRET);
  const plain = await startBaseline('plain', '-');
  let prism: Prism | null = null;
  try {
    const headers = { Authorization: `Bearer ${sim.token}` };
    await prepareVolume(sim);
    const out: BenchResult[] = [];
    const idle = rssBytes(sim.pid);

    /** A load on em-sim with em-sim's peak RSS sampled meanwhile. */
    const simLoad = async (url: string): Promise<LoadResult & { rss: number }> => {
      let peak = rssBytes(sim.pid);
      const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(sim.pid))), 100);
      try {
        return { ...(await load(url, headers, { connections: CONNECTIONS, seconds: SECONDS })), rss: peak };
      } finally {
        clearInterval(sampler);
      }
    };
    /**
     * ROUNDS alternating rounds of the baseline and em-sim, each after a warm-up; the median round
     * of each (by requests per second) is the figure. One round each swung the ratio by ±0.1 on
     * this shared 2-core machine, where the load generator takes a core of its own.
     */
    const measure = async (label: string, url: string, baselineLabel: string, baselineUrl: string) => {
      const bares: LoadResult[] = [];
      const sims: (LoadResult & { rss: number })[] = [];
      for (let round = 0; round < ROUNDS; round++) {
        await load(baselineUrl, headers, { connections: CONNECTIONS, seconds: WARMUP_SECONDS });
        bares.push(await load(baselineUrl, headers, { connections: CONNECTIONS, seconds: SECONDS }));
        await load(url, headers, { connections: CONNECTIONS, seconds: WARMUP_SECONDS });
        sims.push(await simLoad(url));
      }
      ctx.log(`${label}: rounds (simulator / ${baselineLabel}, req/s): ${sims.map((r, i) => `${round(r.rps, 0)} / ${round(bares[i]!.rps, 0)}`).join(', ')}`);
      const b = { ...medianRound(bares), non2xx: sum(bares, 'non2xx'), errors: sum(bares, 'errors') };
      const s = { ...medianRound(sims), non2xx: sum(sims, 'non2xx'), errors: sum(sims, 'errors'), rss: Math.max(...sims.map((r) => r.rss)) };
      ctx.log(`${label}: simulator ${round(s.rps, 0)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms, RSS ${round(s.rss / MiB, 0)} MiB (${s.total} requests, ${s.non2xx} non-2xx, ${s.errors} errors)`);
      ctx.log(`${label}: ${baselineLabel} ${round(b.rps, 0)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms (${b.total} requests, ${b.non2xx} non-2xx, ${b.errors} errors)`);
      return { sim: s, bare: b };
    };
    const note = (r: { sim: LoadResult; bare: LoadResult }, what: string) =>
      r.sim.non2xx || r.sim.errors || r.bare.non2xx || r.bare.errors
        ? `INVALID: non-2xx or errors (simulator ${r.sim.non2xx}/${r.sim.errors}, ${what} ${r.bare.non2xx}/${r.bare.errors})`
        : `${CONNECTIONS} connections, median of ${ROUNDS} alternating ${SECONDS} s rounds, one user; baseline: ${what}`;

    out.push(result('memory.idle_rss', round(idle / MiB, 1), 'MiB', null, { below: 200 }, 'em-sim just started, a volume of 10 files'));
    const list = await measure('files/list', `${sim.url}/em/files/list`, 'bare Hono verifying the JWT', `${jwt.url}/em/files/list`);
    out.push(result('api.files_list.rps', list.sim.rps, 'req/s', list.bare.rps, { ratioAtLeast: 0.5 }, note(list, 'bare Hono verifying the JWT')));
    out.push(result('api.files_list.p99', list.sim.p99, 'ms', list.bare.p99, { below: 25 }));
    out.push(result('memory.files_list_rss', round(list.sim.rss / MiB, 1), 'MiB', round(idle / MiB, 1), { below: 300 }, 'peak during the files/list load; baseline: idle'));

    prism = await startPrism();
    const peer = await measure('files/list vs Prism', `${sim.url}/em/files/list`, 'Prism mocking the Swagger', `${prism.url}/em/files/list`);
    out.push(result('peer.prism.files_list.rps', peer.sim.rps, 'req/s', peer.bare.rps, { ratioAtLeast: 3 }, note(peer, `Prism ${PRISM_VERSION} mocking em-api-swagger.yaml (empty 200s)`)));
    await prism.close();
    prism = null;

    if (!(await dockerAvailable())) {
      out.push(skipped('api.pod_status.rps', 'req/s', 'ratio >= 0.5', 'no Docker engine answers'));
      out.push(skipped('api.pod_status.p99', 'ms', '< 25 ms', 'no Docker engine answers'));
      return out;
    }
    await podThatHasRun(sim, 'done');
    const status = await measure('pod/status', `${sim.url}/em/pod/status?pod_name=done`, 'bare Hono, no authentication', `${plain.url}/em/pod/status`);
    out.push(result('api.pod_status.rps', status.sim.rps, 'req/s', status.bare.rps, { ratioAtLeast: 0.5 }, note(status, 'bare Hono, no authentication')));
    out.push(result('api.pod_status.p99', status.sim.p99, 'ms', status.bare.p99, { below: 25 }));
    out.push(result('memory.pod_status_rss', round(status.sim.rss / MiB, 1), 'MiB', round(idle / MiB, 1), { below: 300 }, 'peak during the pod/status load; baseline: idle'));
    return out;
  } finally {
    await prism?.close();
    await jwt.close();
    await plain.close();
    await sim.close();
  }
}

/** Ten small files uplinked into the default volume, listed once so their hashes are known. */
async function prepareVolume(sim: BenchSim): Promise<void> {
  const form = new FormData();
  for (let i = 0; i < 10; i++) form.append('files', new Blob([`file ${i}\n`.repeat(100 * (i + 1))]), `file-${i}.txt`);
  const up = await sim.fetch('/em/files/uplink', { method: 'POST', body: form });
  if (up.status !== 200) throw new Error(`uplink: ${up.status} ${await up.text()}`);
  const list = await sim.fetch('/em/files/list');
  const body = (await list.json()) as { data: unknown[] };
  if (list.status !== 200 || body.data.length !== 10) throw new Error(`list: ${list.status} ${JSON.stringify(body)}`);
}

/** Runs a pod whose command exits at once and waits until its status says terminated. */
async function podThatHasRun(sim: BenchSim, pod: string): Promise<void> {
  const res = await sim.fetch('/em/pod/run', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ image: 'alpine:latest', node: 'MPU', max_duration: 1, command: 'true', pod_name: pod }),
  });
  if (res.status !== 200) throw new Error(`pod/run: ${res.status} ${await res.text()}`);
  const until = Date.now() + 30_000;
  for (;;) {
    const status = await sim.fetch(`/em/pod/status?pod_name=${pod}`);
    const body = (await status.json()) as { data?: { state: Record<string, unknown> } };
    if (body.data && 'terminated' in body.data.state) return;
    if (Date.now() > until) throw new Error(`pod ${pod} did not finish: ${JSON.stringify(body)}`);
    await sleep(50);
  }
}
