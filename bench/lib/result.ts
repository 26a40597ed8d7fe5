/**
 * One line of bench/results.json. `baseline` is measured in the same run on the same machine;
 * `ratio` is value / baseline. `pass` is null where a line has no target of its own (shown for
 * context) or where the benchmark could not run (then `note` says why).
 */
export interface BenchResult {
  name: string;
  value: number | null;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: string;
  pass: boolean | null;
  note?: string;
}

type Target =
  | { ratioAtLeast: number }
  | { ratioAtMost: number }
  | { below: number }
  | { none: true };

/** Builds a result line and judges it against its target. */
export function result(name: string, value: number, unit: string, baseline: number | null, target: Target, note?: string): BenchResult {
  const ratio = baseline ? value / baseline : null;
  let text: string;
  let pass: boolean | null;
  if ('ratioAtLeast' in target) {
    text = `ratio >= ${target.ratioAtLeast}`;
    pass = ratio !== null && ratio >= target.ratioAtLeast;
  } else if ('ratioAtMost' in target) {
    text = `ratio <= ${target.ratioAtMost}`;
    pass = ratio !== null && ratio <= target.ratioAtMost;
  } else if ('below' in target) {
    text = `< ${target.below} ${unit}`;
    pass = Number.isFinite(value) && value < target.below;
  } else {
    text = '(context)';
    pass = null;
  }
  return {
    name,
    value: round3(value),
    unit,
    baseline: baseline === null ? null : round3(baseline),
    ratio: ratio === null ? null : round3(ratio),
    target: text,
    pass,
    ...(note ? { note } : {}),
  };
}

/** A line for a benchmark that could not run here. */
export function skipped(name: string, unit: string, target: string, why: string): BenchResult {
  return { name, value: null, unit, baseline: null, ratio: null, target, pass: null, note: `not measured: ${why}` };
}

function round3(v: number): number {
  if (!Number.isFinite(v)) return v;
  const abs = Math.abs(v);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function formatTable(results: BenchResult[]): string {
  const rows = [
    ['benchmark', 'value', 'unit', 'baseline', 'ratio', 'target', 'result'],
    ...results.map((r) => [
      r.name,
      r.value === null ? '-' : String(r.value),
      r.unit,
      r.baseline === null ? '-' : String(r.baseline),
      r.ratio === null ? '-' : String(r.ratio),
      r.target,
      r.pass === null ? (r.value === null ? 'SKIPPED' : '') : r.pass ? 'pass' : 'MISSED',
    ]),
  ];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const line = (row: string[]) => row.map((cell, i) => (i === 0 || i === 2 || i >= 5 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}
