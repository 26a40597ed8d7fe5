import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { run } from './lib/proc.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { dockerAvailable, startBenchSim, type BenchSim } from './lib/sim.ts';
import { median, round, sleep } from './lib/stats.ts';
import type { BenchContext } from './lib/context.ts';

const IMAGE = 'alpine:latest';
const COMMAND = 'sleep 30';
const REPS = 5;
const POLL_MS = 20;
const GIVE_UP_MS = 30_000;

/**
 * 5. Pod start: from POST /em/pod/run to a status of running, polled every 20 ms, against
 * `docker run -d` of the same image and command (with `--platform linux/arm64` when the image is
 * arm64, as the simulator's arm64 mode runs it), polled the same way through the engine's
 * inspect endpoint (what `docker inspect` asks, minus a CLI process per poll). One unmeasured
 * start of each first; then alternating starts, median of each.
 */
export async function podStart(ctx: BenchContext): Promise<BenchResult[]> {
  if (!(await dockerAvailable())) return [skipped('pod.start.time', 'ms', 'ratio <= 1.5', 'no Docker engine answers')];
  if (!(await run('docker', ['image', 'inspect', IMAGE]).then(() => true, () => false))) {
    return [skipped('pod.start.time', 'ms', 'ratio <= 1.5', `image ${IMAGE} is missing (run npx em-sim images)`)];
  }
  const architecture = (await run('docker', ['image', 'inspect', '--format', '{{.Architecture}}', IMAGE])).stdout.trim();
  const platform = architecture === 'arm64' ? ['--platform', 'linux/arm64'] : [];
  const sim = await startBenchSim();
  const prefix = `em-sim-bench-${randomBytes(3).toString('hex')}`;
  const baselineNames: string[] = [];
  try {
    const simTimes: number[] = [];
    const dockerTimes: number[] = [];
    for (let rep = 0; rep <= REPS; rep++) {
      const s = await simStart(sim, `start-${rep}`);
      const name = `${prefix}-${rep}`;
      baselineNames.push(name);
      const d = await dockerStart(name, platform);
      if (rep === 0) {
        ctx.log(`pod start warm-up: simulator ${round(s, 0)} ms, docker run -d ${round(d, 0)} ms`);
        continue;
      }
      simTimes.push(s);
      dockerTimes.push(d);
      ctx.log(`pod start run ${rep}: simulator ${round(s, 0)} ms, docker run -d ${round(d, 0)} ms`);
    }
    const mode = architecture === 'arm64' ? 'arm64 mode, against docker run --platform linux/arm64' : `native (${architecture})`;
    return [result('pod.start.time', median(simTimes), 'ms', median(dockerTimes), { ratioAtMost: 1.5 }, `${IMAGE} "${COMMAND}", ${mode}, median of ${REPS}`)];
  } finally {
    if (baselineNames.length) await run('docker', ['rm', '-f', ...baselineNames]).catch(() => undefined);
    await sim.close();
  }
}

async function simStart(sim: BenchSim, pod: string): Promise<number> {
  const started = performance.now();
  const res = await sim.fetch('/em/pod/run', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ image: IMAGE, node: 'MPU', max_duration: 5, command: COMMAND, pod_name: pod }),
  });
  if (res.status !== 200) throw new Error(`pod/run: ${res.status} ${await res.text()}`);
  for (;;) {
    const status = await sim.fetch(`/em/pod/status?pod_name=${pod}`);
    const body = (await status.json()) as { data?: { state: Record<string, unknown> } };
    if (body.data && 'running' in body.data.state) return performance.now() - started;
    if (body.data && 'terminated' in body.data.state) throw new Error(`pod ${pod} ended: ${JSON.stringify(body.data.state)}`);
    if (performance.now() - started > GIVE_UP_MS) throw new Error(`pod ${pod} not running after ${GIVE_UP_MS} ms: ${JSON.stringify(body)}`);
    await sleep(POLL_MS);
  }
}

async function dockerStart(name: string, platform: string[]): Promise<number> {
  const started = performance.now();
  await run('docker', ['run', '-d', ...platform, '--name', name, IMAGE, '/bin/sh', '-c', COMMAND]);
  for (;;) {
    if (await engineSaysRunning(name)) return performance.now() - started;
    if (performance.now() - started > GIVE_UP_MS) throw new Error(`container ${name} not running after ${GIVE_UP_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** GET /containers/NAME/json on the engine's socket: State.Running. */
function engineSaysRunning(name: string): Promise<boolean> {
  const socketPath = process.env.DOCKER_HOST?.startsWith('unix://') ? process.env.DOCKER_HOST.slice(7) : '/var/run/docker.sock';
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: `/containers/${encodeURIComponent(name)}/json`, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.once('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`inspect ${name}: ${res.statusCode} ${body}`));
        resolve((JSON.parse(body) as { State: { Running: boolean } }).State.Running);
      });
    });
    req.once('error', reject);
    req.end();
  });
}
