import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { connectDocker, dockerAvailable } from '../src/adapters/docker/engine.ts';
import type { BenchContext } from './lib/context.ts';
import { result, skipped, type BenchResult } from './lib/result.ts';
import { waitForOk } from './lib/proc.ts';
import { median, round } from './lib/stats.ts';

const exec = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TRIALS = 5;

/**
 * 10. The container image (issue 14): its size against the Node.js runtime it is built on, and
 * its cold start — `docker run -d` with the Docker socket until GET /sim/health first answers 200
 * — against the same base image running a bare Node.js HTTP server, started the same way in the
 * same run. Medians of five; each container is removed with its volume afterwards.
 */
export async function container(ctx: BenchContext): Promise<BenchResult[]> {
  const names = ['container.image_size', 'container.cold_start'];
  const docker = connectDocker();
  if (!(await dockerAvailable(docker, 3000))) return names.map((n) => skipped(n, '', '(context)', 'no Docker engine answers'));
  let image: string;
  try {
    image = (await exec('bash', [path.join(ROOT, 'scripts/build-image.sh')], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 })).stdout.trim().split('\n').pop()!;
  } catch (err) {
    return names.map((n) => skipped(n, '', '(context)', `scripts/build-image.sh failed: ${(err as { stderr?: string }).stderr ?? (err as Error).message}`));
  }
  const info = await docker.getImage(image).inspect();
  // The base: the offline build's Node.js image, else the registry's node:20-bookworm-slim.
  const base = (await docker.listImages({ filters: { reference: ['em-sim-node-base'] } })).map((i) => i.RepoTags?.[0]).find(Boolean) ?? 'node:20-bookworm-slim';
  const baseInfo = await docker.getImage(base).inspect();
  ctx.log(`image ${image}: ${round(info.Size / 1e6, 0)} MB on ${base} (${round(baseInfo.Size / 1e6, 0)} MB)`);

  const startTimes = async (args: string[], healthPath: string): Promise<number[]> => {
    const times: number[] = [];
    for (let i = 0; i < TRIALS; i++) {
      const started = performance.now();
      const id = (await exec('docker', ['run', '-d', '-p', '127.0.0.1::8000', '--label', 'em-sim.bench=container', ...args])).stdout.trim();
      try {
        const port = (await exec('docker', ['port', id, '8000/tcp'])).stdout.trim().split('\n')[0]!.split(':').pop();
        await waitForOk(`http://127.0.0.1:${port}${healthPath}`, { timeoutMs: 120_000 });
        times.push((performance.now() - started) / 1000);
      } finally {
        await exec('docker', ['rm', '-f', '-v', id]).catch(() => {});
      }
    }
    return times;
  };
  const bare = "require('http').createServer((q,s)=>s.end('ok')).listen(8000,'0.0.0.0')";
  const baseline = median(await startTimes(['--entrypoint', 'node', base, '-e', bare], '/'));
  const emSim = median(await startTimes(['-v', '/var/run/docker.sock:/var/run/docker.sock', '-e', 'EM_SIM_LOG_LEVEL=warn', image], '/sim/health'));
  ctx.log(`cold start to the first 200: em-sim ${round(emSim, 2)} s, a bare Node.js server in the same base ${round(baseline, 2)} s`);
  return [
    result('container.image_size', round(info.Size / 1e6, 0), 'MB', round(baseInfo.Size / 1e6, 0), { ratioAtMost: 2 }, `${image} on ${base}`),
    result('container.cold_start', emSim, 's', baseline, { below: 5 }, `docker run -d to GET /sim/health 200; baseline: a bare Node.js server in ${base}; median of ${TRIALS}`),
  ];
}
