import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { BenchContext } from './lib/context.ts';
import { freePort, prismCommand, PRISM_VERSION } from './lib/prism.ts';
import { ROOT, waitForOk, waitForOutput, wrap } from './lib/proc.ts';
import { result, type BenchResult } from './lib/result.ts';
import { median, round } from './lib/stats.ts';

const TRIALS = 11;

/**
 * 11. Cold start (issue 16): from spawning the process to the first 200, for `em-sim start` (a
 * new data directory each time: database, secret and instance made), the smallest Hono server in
 * plain JavaScript (bench/lib/bare-hono.mjs), and Prism mocking the provider's Swagger. Medians
 * of TRIALS, run alternately so that a slow moment of the machine hits all three alike. Targets:
 * em-sim within 1.5× bare Hono's, and ahead of Prism's.
 */
export async function coldStart(ctx: BenchContext): Promise<BenchResult[]> {
  // The first start after a build compiles the bundle and keeps V8's code (bin/em-sim.js, 2 s in,
  // here in a folder of the bench's own); every later start, the ones timed below, reads it back.
  // That first start is shown for context.
  const codeCache = mkdtempSync(path.join(tmpdir(), 'em-sim-cold-cache-'));
  try {
    return await timedStarts(ctx, codeCache);
  } finally {
    rmSync(codeCache, { recursive: true, force: true });
  }
}

async function timedStarts(ctx: BenchContext, codeCache: string): Promise<BenchResult[]> {
  const first = await emSimStart(codeCache, CODE_CACHE_WRITTEN_MS);
  if (readdirSync(codeCache).length === 0) throw new Error(`em-sim kept no code cache in ${codeCache} after a start: is dist/em-sim.cjs older than a source?`);
  const times = { emSim: [] as number[], hono: [] as number[], prism: [] as number[] };
  for (let i = 0; i < TRIALS; i++) {
    times.hono.push(await firstOk([process.execPath, [path.join(ROOT, 'bench/lib/bare-hono.mjs'), '0']], '/', { announced: true }));
    times.emSim.push(await emSimStart(codeCache));
    const port = await freePort();
    times.prism.push(await firstOk(prismCommand(port), '/em/files/list', { port }));
  }
  const [emSim, hono, prism] = [median(times.emSim), median(times.hono), median(times.prism)];
  ctx.log(
    `cold start to the first 200: em-sim ${round(emSim * 1000, 0)} ms (${round(first * 1000, 0)} ms the first time after a build), bare Hono ${round(hono * 1000, 0)} ms, Prism ${round(prism * 1000, 0)} ms`,
  );
  return [
    result('coldstart.vs_bare_hono', emSim, 's', hono, { ratioAtMost: 1.5 }, `em-sim start (new data directory) to GET /sim/health 200; baseline: bench/lib/bare-hono.mjs; median of ${TRIALS}`),
    result('coldstart.first_after_build', first, 's', hono, { none: true }, 'the first em-sim start after the bundle was built: no V8 code cache yet (it compiles the bundle and keeps the code); once, not a median'),
    result('coldstart.vs_prism', emSim, 's', prism, { ratioAtMost: 1 }, `baseline: Prism ${PRISM_VERSION} mocking em-api-swagger.yaml, to its first 200; median of ${TRIALS}`),
  ];
}

/** How long after a start bin/em-sim.js has written V8's compiled code for the bundle (2 s, and a margin). */
const CODE_CACHE_WRITTEN_MS = 3000;

/**
 * em-sim start on a new data directory and a free port, with its code cache in `codeCache`, timed
 * to its first /sim/health 200; kept running `holdMs` more before it is stopped.
 */
async function emSimStart(codeCache: string, holdMs = 0): Promise<number> {
  const dir = mkdtempSync(path.join(tmpdir(), 'em-sim-cold-'));
  const port = await freePort();
  const config = path.join(dir, 'sim-config.yaml');
  writeFileSync(config, stringify({ log: { level: 'warn' }, images: { prepare: [] }, server: { host: '127.0.0.1', port }, data_dir: path.join(dir, 'data') }));
  try {
    return await firstOk([process.execPath, [path.join(ROOT, 'bin/em-sim.js'), 'start', '--config', config]], '/sim/health', { announced: true, holdMs, env: { EM_SIM_CODE_CACHE_DIR: codeCache } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Spawns the command and polls GET `urlPath` until it answers 200 (waitForOk); the seconds from
 * spawning. `announced`: the polls begin once it prints "listening on http://127.0.0.1:PORT" (bare
 * Hono and em-sim, timed alike: polls refused while a server starts would take CPU from it on a
 * 2-core machine); else they begin at once, on `port` (Prism, which prints no such line). The
 * process, with `env` added to this one's environment, is stopped afterwards (`holdMs` later).
 * Throws after 60 s.
 */
async function firstOk(
  [command, args]: [string, string[]],
  urlPath: string,
  options: { port?: number; announced?: boolean; holdMs?: number; env?: NodeJS.ProcessEnv },
): Promise<number> {
  const started = performance.now();
  const child = wrap(spawn(command, args, { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    const known = options.announced ? Number((await waitForOutput(child, /listening on http:\/\/127\.0\.0\.1:(\d+)/))[1]) : options.port!;
    await waitForOk(`http://127.0.0.1:${known}${urlPath}`, {
      headers: { Authorization: 'Bearer x' },
      gone: () => (child.process.exitCode !== null ? `${path.basename(args[0] ?? command)} exited before answering:\n${child.output()}` : null),
    });
    const seconds = (performance.now() - started) / 1000;
    if (options.holdMs) await new Promise((resolve) => setTimeout(resolve, options.holdMs));
    return seconds;
  } finally {
    await child.stop();
  }
}
