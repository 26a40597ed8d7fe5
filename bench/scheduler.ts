import { fileURLToPath } from 'node:url';
import { spawnTs, waitForOutput } from './lib/proc.ts';
import { result, type BenchResult } from './lib/result.ts';
import { percentile, round } from './lib/stats.ts';
import type { BenchContext } from './lib/context.ts';

const PROBE = fileURLToPath(new URL('./scheduler-probe.ts', import.meta.url));
const RUNS = 1000;

/**
 * 6. Scheduler: 1,000 runs due at one instant on the fake runtime; lateness of each start after
 * the clock is advanced past it, against 1,000 plain setTimeout callbacks due at one instant.
 * Runs in a fresh process of its own (scheduler-probe.ts).
 */
export async function scheduler(ctx: BenchContext): Promise<BenchResult[]> {
  const probe = spawnTs(PROBE, [String(RUNS)]);
  try {
    const line = (await waitForOutput(probe, /^(\{.*\})\n/m, 180_000))[1]!;
    const { simulator, floor, scheduleMs } = JSON.parse(line) as { simulator: number[]; floor: number[]; scheduleMs: number };
    const p = (values: number[], q: number) => percentile(values, q);
    ctx.log(
      `scheduler: scheduled ${RUNS} runs in ${round(scheduleMs, 0)} ms; lateness p50 ${round(p(simulator, 50), 1)} ms, ` +
        `p99 ${round(p(simulator, 99), 1)} ms, max ${round(p(simulator, 100), 1)} ms; ` +
        `setTimeout p50 ${round(p(floor, 50), 2)} ms, p99 ${round(p(floor, 99), 2)} ms`,
    );
    return [
      result('scheduler.1000.lateness_p50', p(simulator, 50), 'ms', p(floor, 50), { none: true }, 'baseline: 1,000 plain setTimeout callbacks'),
      result('scheduler.1000.lateness_p99', p(simulator, 99), 'ms', p(floor, 99), { below: 1000 }, 'fake runtime, clock advanced past the due time'),
    ];
  } finally {
    await probe.stop();
  }
}
