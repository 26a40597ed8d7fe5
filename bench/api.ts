import { startBaseline } from './lib/baseline.ts';
import { load, type LoadResult } from './lib/load.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, SECRET, startBenchSim, type BenchSim } from './lib/sim.ts';
import { round, sleep } from './lib/stats.ts';
import type { BenchContext } from './lib/context.ts';

const CONNECTIONS = 50;
const SECONDS = 5;
const WARMUP_SECONDS = 1;

/**
 * 1. API overhead: GET /em/files/list (a volume of 10 files) and GET /em/pod/status (a pod that
 * has run and exited) under 50 connections, against a bare Hono server that verifies the same
 * JWT on every request and answers a small JSON. Each simulator measurement is paired with a
 * baseline measurement taken right before it.
 */
export async function apiOverhead(ctx: BenchContext): Promise<BenchResult[]> {
  const sim = await startBenchSim();
  const bare = await startBaseline('jwt', SECRET);
  try {
    const headers = { Authorization: `Bearer ${sim.token}` };
    await prepareVolume(sim);
    const out: BenchResult[] = [];

    const measure = async (label: string, url: string): Promise<{ sim: LoadResult; bare: LoadResult }> => {
      const bareUrl = `${bare.url}/em/files/list`;
      await load(bareUrl, headers, { connections: CONNECTIONS, seconds: WARMUP_SECONDS });
      const b = await load(bareUrl, headers, { connections: CONNECTIONS, seconds: SECONDS });
      await load(url, headers, { connections: CONNECTIONS, seconds: WARMUP_SECONDS });
      const s = await load(url, headers, { connections: CONNECTIONS, seconds: SECONDS });
      ctx.log(`${label}: simulator ${round(s.rps, 0)} req/s, p50 ${s.p50} ms, p99 ${s.p99} ms (${s.total} requests, ${s.non2xx} non-2xx, ${s.errors} errors)`);
      ctx.log(`${label}: bare JWT server ${round(b.rps, 0)} req/s, p50 ${b.p50} ms, p99 ${b.p99} ms (${b.total} requests, ${b.non2xx} non-2xx, ${b.errors} errors)`);
      return { sim: s, bare: b };
    };
    const note = (r: { sim: LoadResult; bare: LoadResult }) =>
      r.sim.non2xx || r.sim.errors || r.bare.non2xx || r.bare.errors
        ? `INVALID: non-2xx or errors (simulator ${r.sim.non2xx}/${r.sim.errors}, bare ${r.bare.non2xx}/${r.bare.errors})`
        : `${CONNECTIONS} connections, ${SECONDS} s, one user (limits.one_request_per_user: false)`;

    const list = await measure('files/list', `${sim.url}/em/files/list`);
    out.push(result('api.files_list.rps', list.sim.rps, 'req/s', list.bare.rps, { ratioAtLeast: 0.5 }, note(list)));
    out.push(result('api.files_list.p99', list.sim.p99, 'ms', list.bare.p99, { below: 25 }));

    if (!(await dockerAvailable())) {
      out.push(skipped('api.pod_status.rps', 'req/s', 'ratio >= 0.5', 'no Docker engine answers'));
      out.push(skipped('api.pod_status.p99', 'ms', '< 25 ms', 'no Docker engine answers'));
      return out;
    }
    await podThatHasRun(sim, 'done');
    const status = await measure('pod/status', `${sim.url}/em/pod/status?pod_name=done`);
    out.push(result('api.pod_status.rps', status.sim.rps, 'req/s', status.bare.rps, { ratioAtLeast: 0.5 }, note(status)));
    out.push(result('api.pod_status.p99', status.sim.p99, 'ms', status.bare.p99, { below: 25 }));
    return out;
  } finally {
    await bare.close();
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
