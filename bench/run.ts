/**
 * `npm run bench`: each benchmark against a freshly started simulator (its own process and temp
 * data directory), each compared with a baseline measured in this same run on this machine.
 * Prints a table and writes bench/results.json. A missed target is marked, not fatal: the
 * command exits 0 unless a benchmark could not run at all.
 *
 *   npm run bench                      everything (a few minutes on 2 cores)
 *   npm run bench -- --only api,listing   (the other lines of bench/results.json are kept)
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { apiOverhead } from './api.ts';
import { coldStart } from './coldstart.ts';
import { container } from './container.ts';
import type { BenchContext } from './lib/context.ts';
import { listing, listingAtScale } from './listing.ts';
import { operations, operationsBackToBack } from './operations.ts';
import { podStart } from './pod-start.ts';
import { writeChart } from './lib/chart.ts';
import { formatTable, type BenchResult } from './lib/result.ts';
import { GiB, round } from './lib/stats.ts';
import { writeRandomFile } from './lib/transfer.ts';
import { classScale } from './scale.ts';
import { scheduler } from './scheduler.ts';
import { schedulerOnEngine } from './scheduler-engine.ts';
import { services } from './services.ts';
import { standins } from './standins.ts';
import { downlink, uplink } from './transfer.ts';

const BENCHMARKS: Record<string, (ctx: BenchContext) => Promise<BenchResult[]>> = {
  api: apiOverhead,
  uplink,
  downlink,
  listing,
  list100k: listingAtScale,
  pods: podStart,
  scheduler,
  scheduler1000: schedulerOnEngine,
  standins,
  services,
  operations,
  operations100: operationsBackToBack,
  container,
  coldstart: coldStart,
  scale: classScale,
};

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));
const CHART = fileURLToPath(new URL('./results.svg', import.meta.url));

function selected(): string[] {
  const i = process.argv.indexOf('--only');
  if (i === -1) return Object.keys(BENCHMARKS);
  const names = (process.argv[i + 1] ?? '').split(',').filter(Boolean);
  const unknown = names.filter((n) => !(n in BENCHMARKS));
  if (unknown.length || !names.length) {
    process.stderr.write(`bench: --only takes a comma-separated list of ${Object.keys(BENCHMARKS).join(', ')}\n`);
    process.exit(2);
  }
  return names;
}

async function main(): Promise<number> {
  const names = selected();
  const work = mkdtempSync(path.join(tmpdir(), 'em-sim-bench-work-'));
  const started = performance.now();
  const log = (message: string) => process.stdout.write(`[${((performance.now() - started) / 1000).toFixed(1).padStart(6)} s] ${message}\n`);
  let big: string | null = null;
  const ctx: BenchContext = {
    work,
    log,
    bigFile() {
      if (!big) {
        const file = path.join(work, 'big.bin');
        const t = performance.now();
        writeRandomFile(file, GiB);
        log(`made a 1 GiB file of random bytes in ${round(performance.now() - t, 0)} ms`);
        big = file;
      }
      return big;
    },
  };
  const cleanup = () => rmSync(work, { recursive: true, force: true });
  process.once('SIGINT', () => {
    cleanup();
    process.exit(130);
  });

  log(`em-sim benchmarks on ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${round(totalmem() / GiB, 0)} GiB, Node ${process.version}: ${names.join(', ')}`);
  log('simulators run with limits.one_request_per_user: false (load comes from one user over many connections) and log.level: warn');
  const results: BenchResult[] = [];
  let failures = 0;
  try {
    for (const name of names) {
      const t = performance.now();
      log(`--- ${name}`);
      try {
        const lines = await BENCHMARKS[name]!(ctx);
        results.push(...lines);
        for (const r of lines) log(`${r.name}: ${r.value} ${r.unit} (baseline ${r.baseline ?? '-'}, ratio ${r.ratio ?? '-'}, target ${r.target}) ${r.pass === null ? '' : r.pass ? 'pass' : 'MISSED'}`);
      } catch (err) {
        failures++;
        log(`${name} could not run: ${(err as Error).stack ?? err}`);
        results.push({ name, value: null, unit: '', baseline: null, ratio: null, target: '', pass: false, note: `error: ${(err as Error).message.split('\n')[0]}` });
      }
      log(`${name} took ${round((performance.now() - t) / 1000, 1)} s`);
    }
  } finally {
    cleanup();
  }
  // With --only, the other benchmarks' lines of the last full run stay; a re-measured line replaces its old one.
  const measured = new Set(results.map((r) => r.name));
  // A benchmark that ran drops its old error line (named after the benchmark) whatever it gives now.
  const kept = names.length < Object.keys(BENCHMARKS).length && existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResult[]).filter((r) => !names.includes(r.name)) : [];
  const merged = [...kept.map((r) => (measured.has(r.name) ? results.find((n) => n.name === r.name)! : r)), ...results.filter((r) => !kept.some((k) => k.name === r.name))];
  writeFileSync(RESULTS, JSON.stringify(merged, null, 2) + '\n');
  await writeChart(merged, CHART);
  process.stdout.write(`\n${formatTable(results)}\n\n`);
  const missed = results.filter((r) => r.pass === false).length;
  log(`${results.length} figures, ${missed} missed or failed; written to ${path.relative(process.cwd(), RESULTS)} and ${path.relative(process.cwd(), CHART)}`);
  return failures ? 1 : 0;
}

process.exitCode = await main();
