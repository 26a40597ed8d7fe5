import type { BusyWindows } from './busy-windows.ts';
import type { NodeSchedule } from './nodes/node-schedule.ts';
import type { Orbit } from './onboard/orbit.ts';
import type { Clock } from './ports/clock.ts';
import type { PodStore } from './ports/pod-store.ts';
import { compileWindows, windowState, type CompiledWindows, type Interval, type WindowSpec } from './time/windows.ts';

/** A stretch of time as the timeline gives it: ISO 8601 (simulated clock), [start, end). */
export interface Span {
  start: string;
  end: string;
}

/** One of the user's pod runs on the timeline. */
export interface TimelineRun {
  pod_name: string;
  node: string;
  /** The pod store's phase: scheduled, waiting, starting, running, terminated. */
  phase: string;
  /** When the run was due (its scheduled_time, or when it was asked for). */
  due: string;
  started: string | null;
  finished: string | null;
  /** The Kubernetes reason of an ended run (Completed, Error, OOMKilled, …). */
  reason: string | null;
}

/** One point of the ground track. */
export interface TrackPoint {
  time: string;
  /** Degrees, geodetic. */
  latitude: number;
  /** Degrees, -180 to 180. */
  longitude: number;
}

/** GET /sim/satellite: what the dashboard's satellite page draws. */
export interface SatelliteTimeline {
  now: string;
  from: string;
  to: string;
  /** The orbit's period, seconds (SGP4 mean motion of the telemetry twin's TLE). */
  period_seconds: number;
  position: { time: string; latitude: number; longitude: number; altitude_km: number; sunlit: boolean };
  /** Revolutions, each from one ascending node (northbound equator crossing) to the next. */
  orbits: (Span & { number: number })[];
  /** When each node is powered (nodes.*.availability); one span for the whole range when always. */
  nodes: { node: string; powered: Span[] }[];
  /** busy_windows: while one is open, /em/* answers 423 CG2_BUSY. */
  busy: Span[];
  /** When the satellite is in the Earth's shadow. */
  eclipses: Span[];
  /** The user's own pod runs that touch the range (scheduled ones included). */
  runs: TimelineRun[];
  /** Where the satellite is over the range, every `step_seconds`. */
  ground_track: TrackPoint[];
  step_seconds: number;
  /** A node's or the busy windows' list was cut at MAX_SPANS spans (windows that flip faster than a chart can show). */
  truncated: boolean;
}

/** The range the timeline may cover, hours ahead of now. */
export const TIMELINE_MAX_HOURS = 48;

/** The most spans one list holds: a window set that flips more often is cut short (and `truncated` says so). */
export const MAX_SPANS = 5000;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * The stretches of [from, to) inside: `at(t)` answers whether t is inside and until when that
 * stays so (windowState's answer; null: for ever). At most MAX_SPANS, `truncated` when cut.
 */
export function spansOf(at: (t: number) => { inside: boolean; until: number | null }, from: number, to: number): { spans: Interval[]; truncated: boolean } {
  const spans: Interval[] = [];
  let t = from;
  while (t < to) {
    if (spans.length === MAX_SPANS) return { spans, truncated: true };
    const a = at(t);
    const next = a.until === null || a.until <= t ? Infinity : a.until;
    if (a.inside) spans.push({ start: t, end: Math.min(next, to) });
    t = next;
  }
  return { spans, truncated: false };
}

/** Looking two days ahead covers the longest timeline (TIMELINE_MAX_HOURS) with its past quarter hour. */
const HORIZON_MS = 2 * 86_400_000 + 3_600_000;

/**
 * The satellite as the dashboard shows it (simulator only; the real dashboard cannot): the next
 * hours of orbits, each node's power, the busy windows, the eclipses, a user's scheduled and
 * running pods, and the ground track from the telemetry twin's SGP4 orbit. Every time is on the
 * simulated clock; moving the clock (POST /sim/clock) moves the picture.
 */
export class SatelliteTimelineService {
  /** The northern half of each orbit: an ascending node starts each of its stretches. */
  private readonly north: CompiledWindows;
  private readonly eclipse: CompiledWindows;

  /**
   * `eclipse` is the configured `eclipse` orbit window (the one `availability: eclipse` gives a
   * node), so that the timeline's eclipses and a node that follows them agree to the second.
   */
  constructor(
    private readonly o: { orbit: Orbit; nodes: NodeSchedule; busy: BusyWindows; clock: Clock; pods: PodStore; eclipse: readonly WindowSpec[] },
  ) {
    // Edges are found as node windows find theirs (windows.ts: sampled, then bisected to a second),
    // and what was found is kept between polls.
    this.north = compileWindows([{ name: 'north', holds: (t) => o.orbit.stateAt(t).latitude >= 0, stepMs: 60_000, horizonMs: HORIZON_MS }]);
    this.eclipse = compileWindows(o.eclipse);
  }

  /**
   * The timeline of `hours` ahead of now (and `pastMinutes` before it), with the ground track sampled
   * every `stepSeconds`. Callers check the ranges (TIMELINE_MAX_HOURS).
   */
  timeline(username: string, hours: number, stepSeconds: number, pastMinutes = 15): SatelliteTimeline {
    const { orbit, nodes, busy, clock, pods } = this.o;
    const now = clock.now();
    const from = now - pastMinutes * 60_000;
    const to = now + hours * 3_600_000;
    const step = stepSeconds * 1000;

    const track: TrackPoint[] = [];
    for (let t = from; ; t = Math.min(t + step, to)) {
      const s = orbit.stateAt(t);
      track.push({ time: iso(t), latitude: round(s.latitude), longitude: round(s.longitude) });
      if (t >= to) break;
    }
    const here = orbit.stateAt(now);
    const ascending = spansOf((t) => windowState(this.north, t), from, to).spans.map((s) => s.start).filter((t) => t > from);
    const edges = [from, ...ascending, to];
    const orbits = edges.slice(1).map((end, i) => ({ number: i + 1, start: iso(edges[i]!), end: iso(end) }));

    const runs: TimelineRun[] = [];
    for (const r of pods.listForUser(username)) {
      const start = r.startedAt ?? r.dueAt;
      const end = r.finishedAt ?? (r.phase === 'terminated' ? start : now);
      if (end < from || start > to) continue;
      runs.push({
        pod_name: r.name,
        node: r.spec.node,
        phase: r.phase,
        due: iso(r.dueAt),
        started: r.startedAt === null ? null : iso(r.startedAt),
        finished: r.finishedAt === null ? null : iso(r.finishedAt),
        reason: r.reason,
      });
    }

    const powered = nodes.names.map((node) => ({
      node,
      found: spansOf((t) => {
        const a = nodes.availability(node, t);
        return { inside: a.available, until: a.until };
      }, from, to),
    }));
    const busySpans = spansOf((t) => busy.at(t), from, to);
    const eclipses = spansOf((t) => windowState(this.eclipse, t), from, to).spans;
    return {
      now: iso(now),
      from: iso(from),
      to: iso(to),
      period_seconds: Math.round(orbit.periodSeconds * 10) / 10,
      position: { time: iso(now), latitude: round(here.latitude), longitude: round(here.longitude), altitude_km: round(here.altitudeKm), sunlit: here.shadow < 0.5 },
      orbits,
      nodes: powered.map(({ node, found }) => ({ node, powered: found.spans.map(spanOf) })),
      busy: busySpans.spans.map(spanOf),
      eclipses: eclipses.map(spanOf),
      runs,
      ground_track: track,
      step_seconds: stepSeconds,
      truncated: busySpans.truncated || powered.some((p) => p.found.truncated),
    };
  }
}

const spanOf = (i: Interval): Span => ({ start: iso(i.start), end: iso(i.end) });
const round = (x: number) => Math.round(x * 1000) / 1000;
