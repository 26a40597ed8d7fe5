import { parseZonedIso } from './iso-time.ts';

/**
 * Time windows, the shape of node availability and of busy periods: absolute ranges
 * {start, end} and recurring ones {every, duration, offset} (seconds; offset from the epoch),
 * which is enough to describe an orbit in which something is up only part of the time.
 * All times here are epoch milliseconds, half-open: [start, end).
 */

/**
 * A window as configured (sim-config.yaml: `busy_windows`, `nodes.*.availability`): an absolute
 * range with ISO 8601 times that carry a timezone, or a recurring window in seconds.
 */
export type WindowSpec = { start: string; end: string } | { every: number; duration: number; offset: number } | PredicateWindow;

/**
 * A window that is open whenever a condition holds (the satellite is sunlit, a ground station
 * sees it): its edges are found by sampling every `stepMs` and bisecting to a second. A stretch
 * shorter than `stepMs` may be missed; nothing further than `horizonMs` ahead is looked for.
 */
export interface PredicateWindow {
  /** What it is, in words ("sunlit"). */
  name: string;
  holds(t: number): boolean;
  stepMs: number;
  horizonMs: number;
}

/** A stretch of time, epoch milliseconds, [start, end). */
export interface Interval {
  start: number;
  end: number;
}

/** A window with its times in epoch milliseconds. */
type Compiled =
  | { kind: 'range'; start: number; end: number }
  | { kind: 'every'; every: number; duration: number; offset: number }
  | { kind: 'predicate'; window: PredicateWindow; found: FoundOccurrences };

/**
 * What a predicate window has found so far: occurrences, and for stretches outside, the
 * occurrence that follows them. Polls ask about nearby moments over and over; a lookup here
 * saves the sampling. Bounded; the oldest finds go first.
 */
class FoundOccurrences {
  private readonly occurrences: Interval[] = [];
  private readonly gaps: { from: number; next: Interval }[] = [];

  occurrenceAt(t: number): Interval | undefined {
    return this.occurrences.find((o) => t >= o.start && t < o.end);
  }

  nextAfter(t: number): Interval | undefined {
    return this.gaps.find((g) => t >= g.from && t < g.next.start)?.next;
  }

  remember(occurrence: Interval, gapFrom?: number): Interval {
    this.occurrences.push(occurrence);
    if (gapFrom !== undefined) this.gaps.push({ from: gapFrom, next: occurrence });
    if (this.occurrences.length > 32) this.occurrences.shift();
    if (this.gaps.length > 32) this.gaps.shift();
    return occurrence;
  }
}

/** Windows ready to be asked about; the ISO times must already have been validated (parseZonedIso). */
export function compileWindows(windows: readonly WindowSpec[]): Compiled[] {
  return windows.map((w): Compiled => {
    if ('holds' in w) return { kind: 'predicate', window: w, found: new FoundOccurrences() };
    if ('start' in w) return { kind: 'range', start: parseZonedIso(w.start)!, end: parseZonedIso(w.end)! };
    return { kind: 'every', every: w.every * 1000, duration: Math.min(w.duration, w.every) * 1000, offset: w.offset * 1000 };
  });
}

/** The occurrence of the window that contains t, if any. */
function occurrenceAt(w: Compiled, t: number): Interval | null {
  if (w.kind === 'range') return t >= w.start && t < w.end ? { start: w.start, end: w.end } : null;
  if (w.kind === 'predicate') {
    const known = w.found.occurrenceAt(t);
    if (known) return known;
    if (!w.window.holds(t)) return null;
    const start = edge(w.window, t, -1);
    const end = edge(w.window, t, 1);
    // An occurrence that runs past the horizon is only known up to it: not remembered.
    return Number.isFinite(start) && Number.isFinite(end) ? w.found.remember({ start, end }) : { start, end };
  }
  const start = t - mod(t - w.offset, w.every);
  return t < start + w.duration ? { start, end: start + w.duration } : null;
}

/** The first occurrence starting strictly after t. */
function nextOccurrence(w: Compiled, t: number): Interval | null {
  if (w.kind === 'range') return w.start > t ? { start: w.start, end: w.end } : null;
  if (w.kind === 'predicate') {
    const known = w.found.nextAfter(t);
    if (known) return known;
    const p = w.window;
    // From inside an occurrence, the next one starts after this one ends.
    const gapFrom = p.holds(t) ? edge(p, t, 1) : t;
    let from = gapFrom;
    for (let probe = from + p.stepMs; probe <= t + p.horizonMs; probe += p.stepMs) {
      if (p.holds(probe)) {
        const start = bisect(p, from, probe);
        const end = edge(p, probe, 1);
        return Number.isFinite(end) ? w.found.remember({ start, end }, gapFrom) : { start, end };
      }
      from = probe;
    }
    return null;
  }
  const start = t - mod(t - w.offset, w.every) + w.every;
  return { start, end: start + w.duration };
}

const EDGE_PRECISION_MS = 1000;

/** Where the condition, true at t, last began (direction -1) or next stops holding (+1), within the horizon. */
function edge(p: PredicateWindow, t: number, direction: -1 | 1): number {
  let inside = t;
  for (let probe = t + direction * p.stepMs; Math.abs(probe - t) <= p.horizonMs; probe += direction * p.stepMs) {
    if (!p.holds(probe)) return bisect(p, probe, inside);
    inside = probe;
  }
  return direction === 1 ? Infinity : -Infinity;
}

/** The first moment (to EDGE_PRECISION_MS) between `outside` and `inside` at which the condition holds, approached from `outside`. */
function bisect(p: PredicateWindow, outside: number, inside: number): number {
  while (Math.abs(inside - outside) > EDGE_PRECISION_MS) {
    const mid = Math.round((inside + outside) / 2);
    if (p.holds(mid)) inside = mid;
    else outside = mid;
  }
  // Half-open windows: the start is the first moment inside; the end the first moment outside;
  // either on a whole second, as the edges are only known to one.
  return Math.ceil((inside > outside ? inside : outside) / EDGE_PRECISION_MS) * EDGE_PRECISION_MS;
}

/** When t lies in a window: the end of the covered stretch (overlapping windows merged). */
export function coveredUntil(windows: Compiled[], t: number): number | null {
  let end: number | null = null;
  let probe = t;
  // Windows may chain (one starts where another ends); a bounded walk merges them.
  for (let i = 0; i < 1000; i++) {
    let furthest: number | null = null;
    for (const w of windows) {
      const occ = occurrenceAt(w, probe);
      if (occ && (furthest === null || occ.end > furthest)) furthest = occ.end;
    }
    if (furthest === null) return end;
    end = furthest;
    if (furthest === Infinity) return end;
    probe = furthest;
  }
  return end;
}

/** When t lies outside every window: the start of the next one, or null when none comes. */
export function nextCoveredAt(windows: Compiled[], t: number): number | null {
  let best: number | null = null;
  for (const w of windows) {
    const occ = nextOccurrence(w, t);
    if (occ && (best === null || occ.start < best)) best = occ.start;
  }
  return best;
}

/**
 * Whether t lies in a window, and until when that stays so: the end of the covered stretch, or
 * the start of the next window (null: for ever). What node availability, busy windows and the
 * satellite's timeline all ask.
 */
export function windowState(windows: Compiled[], t: number): { inside: boolean; until: number | null } {
  const end = coveredUntil(windows, t);
  if (end !== null) return { inside: true, until: end === Infinity ? null : end };
  return { inside: false, until: nextCoveredAt(windows, t) };
}

/** What compileWindows returns. */
export type CompiledWindows = Compiled[];

function mod(a: number, b: number): number {
  return ((a % b) + b) % b;
}
