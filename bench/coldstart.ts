import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { BenchContext } from './lib/context.ts';
import { freePort, prismCommand, PRISM_VERSION } from './lib/prism.ts';
import { ROOT, waitForOk, waitForOutput, wrap } from './lib/proc.ts';
import { result, type BenchResult } from './lib/result.ts';
import { median, round } from './lib/stats.ts';

const TRIALS = 5;

/**
 * 11. Cold start (issue 16): from spawning the process to the first 200, for `em-sim start` (a
 * new data directory each time: database, secret and instance made), the smallest Hono server in
 * plain JavaScript (bench/lib/bare-hono.mjs), and Prism mocking the provider's Swagger. Medians
 * of five, run alternately so that a slow moment of the machine hits all three alike. Targets:
 * em-sim within 1.5× bare Hono's, and ahead of Prism's.
 */
export async function coldStart(ctx: BenchContext): Promise<BenchResult[]> {
  const times = { emSim: [] as number[], hono: [] as number[], prism: [] as number[] };
  for (let i = 0; i < TRIALS; i++) {
    times.hono.push(await firstOk([process.execPath, [path.join(ROOT, 'bench/lib/bare-hono.mjs')]], '/'));
    times.emSim.push(await emSimStart());
    const port = await freePort();
    times.prism.push(await firstOk(prismCommand(port), '/em/files/list', port));
  }
  const [emSim, hono, prism] = [median(times.emSim), median(times.hono), median(times.prism)];
  ctx.log(`cold start to the first 200: em-sim ${round(emSim * 1000, 0)} ms, bare Hono ${round(hono * 1000, 0)} ms, Prism ${round(prism * 1000, 0)} ms`);
  return [
    result('coldstart.vs_bare_hono', emSim, 's', hono, { ratioAtMost: 1.5 }, `em-sim start (new data directory) to GET /sim/health 200; baseline: bench/lib/bare-hono.mjs; median of ${TRIALS}`),
    result('coldstart.vs_prism', emSim, 's', prism, { ratioAtMost: 1 }, `baseline: Prism ${PRISM_VERSION} mocking em-api-swagger.yaml, to its first 200; median of ${TRIALS}`),
  ];
}

/** em-sim start on a new data directory and a free port, timed to its first /sim/health 200. */
async function emSimStart(): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'em-sim-cold-'));
  const port = await freePort();
  const config = path.join(dir, 'sim-config.yaml');
  writeFileSync(config, stringify({ log: { level: 'warn' }, images: { prepare: [] }, server: { host: '127.0.0.1', port }, data_dir: path.join(dir, 'data') }));
  try {
    return await firstOk([process.execPath, [path.join(ROOT, 'bin/em-sim.js'), 'start', '--config', config]], '/sim/health', port);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Spawns the command and polls GET `urlPath` until it answers 200 (waitForOk); the seconds from
 * spawning. With no port, the port is read from its "listening on URL" line. The process is
 * stopped afterwards. Throws after 60 s.
 */
async function firstOk([command, args]: [string, string[]], urlPath: string, port?: number): Promise<number> {
  const started = performance.now();
  const child = wrap(spawn(command, port === undefined ? [...args, '0'] : args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    const known = port ?? Number((await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]);
    await waitForOk(`http://127.0.0.1:${known}${urlPath}`, {
      headers: { Authorization: 'Bearer x' },
      gone: () => (child.process.exitCode !== null ? `${path.basename(args[0] ?? command)} exited before answering:\n${child.output()}` : null),
    });
    return (performance.now() - started) / 1000;
  } finally {
    await child.stop();
  }
}
