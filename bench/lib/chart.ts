import { writeFileSync } from 'node:fs';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { BenchResult } from './result.ts';

/** Units where more is better; for the others (times, sizes) less is. */
const HIGHER_IS_BETTER = new Set(['req/s', 'MB/s', 'tasks/s', 'ops/s']);

/**
 * bench/results.svg: every result that has a baseline measured in the same run, as em-sim's
 * standing against it (how many times better: the ratio for rates, its inverse for times and
 * sizes; 1 = as good as the baseline), on a log scale, coloured by whether its target was met,
 * with the target itself marked. Drawn with Vega-Lite, rendered to SVG by Vega without a browser.
 */
export async function writeChart(results: BenchResult[], file: string): Promise<void> {
  const rows = results
    .filter((r) => r.ratio !== null && r.ratio > 0 && r.value !== null)
    .map((r) => {
      const higher = HIGHER_IS_BETTER.has(r.unit);
      const standing = higher ? r.ratio! : 1 / r.ratio!;
      const target = targetStanding(r, higher);
      const against = /baseline: ([^;]+)/.exec(r.note ?? '')?.[1] ?? 'its baseline';
      return {
        name: `${r.name} (vs ${against.length > 48 ? `${against.slice(0, 47)}…` : against})`,
        standing,
        target,
        result: r.pass === null ? 'context' : r.pass ? 'target met' : 'target missed',
      };
    });
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'em-sim against the baseline or peer measured in the same run', subtitle: 'times better than the baseline (log scale; 1 = as good; | = target)' },
    width: 420,
    data: { values: rows },
    encoding: { y: { field: 'name', type: 'nominal', sort: null, title: null, axis: { labelLimit: 520 } } },
    layer: [
      {
        mark: 'bar',
        encoding: {
          x: { field: 'standing', type: 'quantitative', scale: { type: 'log', domain: [0.05, 20], clamp: true }, title: 'times better than the baseline' },
          color: {
            field: 'result',
            type: 'nominal',
            scale: { domain: ['target met', 'target missed', 'context'], range: ['#2e7d32', '#c62828', '#9e9e9e'] },
            title: null,
          },
        },
      },
      { mark: { type: 'tick', color: 'black', thickness: 2 }, encoding: { x: { field: 'target', type: 'quantitative' } } },
      { mark: { type: 'rule', strokeDash: [4, 4], color: '#555' }, encoding: { x: { datum: 1 } } },
    ],
  };
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  writeFileSync(file, await view.toSVG());
  view.finalize();
}

/** Where the target sits on the same scale, when it is a ratio. */
function targetStanding(r: BenchResult, higher: boolean): number | null {
  const m = /ratio ([<>]=) ([\d.]+)/.exec(r.target);
  if (!m) return null;
  const t = Number(m[2]);
  return higher ? t : 1 / t;
}
