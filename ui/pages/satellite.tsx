import * as Plot from '@observablehq/plot';
import { feature } from 'topojson-client';
import { useEffect, useRef, useState } from 'preact/hooks';
import land110 from 'world-atlas/land-110m.json' with { type: 'json' };
import type { UsageTotal } from '../../src/domain/ports/usage-store.ts';
import type { SatelliteTimeline as Timeline, Span } from '../../src/domain/satellite-timeline.ts';
import { call, CLOCK_MOVED, getJson, when, type ClockState } from '../api.ts';
import { ActionNote, ErrorNote, Section, State, Table, useAction, useLoad } from '../components.tsx';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const LAND = feature(land110 as any, (land110 as any).objects.land);

/** A chart made by `make` into the element, remade when `deps` change. */
function Chart({ make, deps, label }: { make: () => Element; deps: unknown[]; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const chart = make();
    // Plot names each mark's group with aria-label; a label needs a role on an SVG <g>.
    for (const g of chart.querySelectorAll('g[aria-label]:not([role])')) g.setAttribute('role', 'group');
    host.current!.replaceChildren(chart);
    return () => chart.remove();
  }, deps);
  return <figure class="chart" ref={host} aria-label={label} />;
}

const d = (iso: string) => new Date(iso);

function timelineChart(t: Timeline, width: number): Element {
  const rows = [...t.nodes.map((n) => n.node), 'busy', 'eclipse', ...new Set(t.runs.map((r) => `pod ${r.pod_name}`))];
  const powered = t.nodes.flatMap((n) => n.powered.map((s) => ({ row: n.node, start: d(s.start), end: d(s.end), what: `${n.node} powered` })));
  const busy = t.busy.map((s) => ({ row: 'busy', start: d(s.start), end: d(s.end), what: 'CG2 busy (423)' }));
  const eclipse = t.eclipses.map((s) => ({ row: 'eclipse', start: d(s.start), end: d(s.end), what: 'in the Earth\u2019s shadow' }));
  const now = d(t.now);
  // A run of a few seconds would be thinner than a pixel over hours: it gets at least 1/200 of the range.
  const least = (Date.parse(t.to) - Date.parse(t.from)) / 200;
  const endOf = (start: string, end: Date) => new Date(Math.max(end.getTime(), Date.parse(start) + least));
  const runBars = t.runs
    .filter((r) => r.started)
    .map((r) => ({
      row: `pod ${r.pod_name}`,
      start: d(r.started!),
      end: endOf(r.started!, r.finished ? d(r.finished) : now),
      what: `${r.pod_name} ${r.phase}${r.reason ? ` (${r.reason})` : ''} on ${r.node}`,
      phase: r.phase,
    }));
  const due = t.runs
    .filter((r) => !r.started)
    .map((r) => ({ row: `pod ${r.pod_name}`, at: d(r.due), what: `${r.pod_name} scheduled on ${r.node} at ${when(r.due)}` }));
  return Plot.plot({
    width,
    height: 60 + rows.length * 34,
    marginLeft: 110,
    ariaLabel: 'Timeline of the next orbits',
    x: { type: 'utc', domain: [d(t.from), d(t.to)], label: 'simulated time (UTC)', tickFormat: (x: Date) => x.toISOString().slice(11, 16) },
    y: { domain: rows, label: null },
    marks: [
      Plot.ruleX(
        t.orbits.slice(1).map((o) => d(o.start)),
        { stroke: '#bbb', strokeDasharray: '3,3' },
      ),
      Plot.text(t.orbits, {
        x: (o: Span) => new Date((Date.parse(o.start) + Date.parse(o.end)) / 2),
        text: (o: { number: number }) => `orbit ${o.number}`,
        frameAnchor: 'top',
        dy: -2,
        fill: '#777',
      }),
      Plot.barX(powered, { x1: 'start', x2: 'end', y: 'row', fill: '#2e8b57', title: 'what', insetTop: 4, insetBottom: 4 }),
      Plot.barX(busy, { x1: 'start', x2: 'end', y: 'row', fill: '#d9822b', title: 'what', insetTop: 4, insetBottom: 4 }),
      Plot.barX(eclipse, { x1: 'start', x2: 'end', y: 'row', fill: '#44475a', title: 'what', insetTop: 4, insetBottom: 4 }),
      Plot.barX(runBars, {
        x1: 'start',
        x2: 'end',
        y: 'row',
        fill: '#1f6feb',
        fillOpacity: (r: { phase: string }) => (r.phase === 'terminated' ? 0.5 : 1),
        title: 'what',
        insetTop: 6,
        insetBottom: 6,
      }),
      Plot.dot(due, { x: 'at', y: 'row', r: 6, fill: 'white', stroke: '#1f6feb', strokeWidth: 2, title: 'what' }),
      Plot.ruleX([now], { stroke: '#c0392b', strokeWidth: 2 }),
      Plot.text([now], { x: (x: Date) => x, text: () => 'now', frameAnchor: 'bottom', textAnchor: 'start', dx: 4, dy: -4, fill: '#c0392b' }),
    ],
  });
}

function mapChart(t: Timeline, width: number): Element {
  const track = { type: 'LineString', coordinates: t.ground_track.map((p) => [p.longitude, p.latitude]) };
  return Plot.plot({
    width,
    height: width / 2,
    ariaLabel: 'Ground track on a map of the world',
    projection: 'equirectangular',
    marks: [
      Plot.sphere({ fill: '#eaf2fb', stroke: '#999' }),
      Plot.graticule({ stroke: '#ccd' }),
      Plot.geo(LAND, { fill: '#cfd8c0', stroke: '#9aa58a' }),
      Plot.geo(track, { stroke: '#1f6feb', strokeWidth: 1.5 }),
      Plot.dot([t.position], {
        x: 'longitude',
        y: 'latitude',
        r: 6,
        fill: t.position.sunlit ? '#f5b700' : '#44475a',
        stroke: 'black',
        title: () => `CG2 now: ${t.position.latitude.toFixed(1)}°, ${t.position.longitude.toFixed(1)}°`,
      }),
    ],
  });
}

function ClockControls({ onMoved }: { onMoved: () => void }) {
  const clock = useLoad(() => getJson<{ data: ClockState }>('/sim/clock').then((r) => r.data), []);
  const action = useAction();
  const advance = (seconds: number, label: string) =>
    action.run(async () => {
      const res = await call('/sim/clock', { form: new URLSearchParams({ advance_seconds: String(seconds) }) });
      const body = (await res.json()) as { message: string };
      await clock.reload();
      onMoved();
      dispatchEvent(new Event(CLOCK_MOVED));
      return `${body.message} (${label})`;
    });
  if (!clock.data) return <ErrorNote error={clock.error} />;
  return (
    <div class="clock-controls">
      <p>The simulated clock (in the top bar) runs at ×{clock.data.speed} real time.</p>
      {clock.data.control ? (
        <div class="buttons" role="group" aria-label="Advance the simulated clock">
          <button type="button" disabled={action.busy} onClick={() => advance(60, '1 minute')}>
            +1 min
          </button>
          <button type="button" disabled={action.busy} onClick={() => advance(600, '10 minutes')}>
            +10 min
          </button>
          <button type="button" disabled={action.busy} onClick={() => advance(3600, '1 hour')}>
            +1 h
          </button>
        </div>
      ) : (
        <p class="hint">
          The clock runs on its own. Set <code>clock.control: true</code> in sim-config.yaml to move it from here.
        </p>
      )}
      <ActionNote action={action} />
    </div>
  );
}

/** The satellite: a timeline of the next orbits, the ground track, the clock and the onboard models' use. */
export function SatellitePage() {
  const [hours, setHours] = useState(3);
  const timeline = useLoad((o) => getJson<Timeline>('/sim/satellite', { ...o, query: { hours } }), [hours], 30_000);
  const usage = useLoad(() => getJson<{ data: UsageTotal[] }>('/sim/services/usage').then((r) => r.data), []);
  const [width, setWidth] = useState(Math.min(1100, Math.max(600, innerWidth - 80)));
  useEffect(() => {
    const onResize = () => setWidth(Math.min(1100, Math.max(600, innerWidth - 80)));
    addEventListener('resize', onResize);
    return () => removeEventListener('resize', onResize);
  }, []);
  const t = timeline.data;
  return (
    <>
      <Section
        title="Timeline"
        actions={
          <label>
            Hours ahead{' '}
            <select value={String(hours)} onChange={(e) => setHours(Number((e.target as HTMLSelectElement).value))}>
              {[1, 3, 6, 12, 24].map((h) => (
                <option key={h} value={String(h)}>
                  {h}
                </option>
              ))}
            </select>
          </label>
        }
      >
        <ClockControls onMoved={() => void timeline.reload()} />
        <ErrorNote error={timeline.error} />
        {t ? (
          <>
            <p class="legend">
              <span class="key powered" /> node powered <span class="key busy" /> CG2 busy (every /em/* call answers 423) <span class="key eclipse" /> eclipse{' '}
              <span class="key run" /> your pod runs (○ scheduled; paler once ended) — one orbit is {(t.period_seconds / 60).toFixed(1)} min
            </p>
            <Chart label="Timeline of the next orbits" make={() => timelineChart(t, width)} deps={[t, width]} />
            <details>
              <summary>The timeline as a table</summary>
              <Table
                rows={[
                  ...t.orbits.map((o) => ({ what: `orbit ${o.number}`, ...o })),
                  ...t.nodes.flatMap((n) => n.powered.map((s) => ({ what: `${n.node} powered`, ...s }))),
                  ...t.busy.map((s) => ({ what: 'CG2 busy', ...s })),
                  ...t.eclipses.map((s) => ({ what: 'eclipse', ...s })),
                ].sort((a, b) => a.start.localeCompare(b.start))}
                empty="Nothing in this range."
                head={['What', 'From', 'Until']}
                row={(r) => (
                  <tr key={r.what + r.start}>
                    <td>{r.what}</td>
                    <td>{when(r.start)}</td>
                    <td>{when(r.end)}</td>
                  </tr>
                )}
              />
            </details>
            <h3>Your runs</h3>
            <Table
              rows={t.runs}
              empty="None in this range. A pod run with a scheduled_time shows here before it starts."
              head={['Pod', 'Node', 'Phase', 'Due', 'Started', 'Finished']}
              row={(r) => (
                <tr key={r.pod_name} data-run={r.pod_name}>
                  <td>{r.pod_name}</td>
                  <td>{r.node}</td>
                  <td>
                    <State state={r.phase} /> {r.reason ? <State state={r.reason} /> : null}
                  </td>
                  <td>{when(r.due)}</td>
                  <td>{when(r.started)}</td>
                  <td>{when(r.finished)}</td>
                </tr>
              )}
            />
          </>
        ) : null}
      </Section>
      <Section title="Ground track">
        {t ? (
          <>
            <p>
              Now over {t.position.latitude.toFixed(2)}°, {t.position.longitude.toFixed(2)}° at {t.position.altitude_km.toFixed(0)} km,{' '}
              {t.position.sunlit ? 'in sunlight' : 'in eclipse'} (the telemetry twin's SGP4 orbit).
            </p>
            <Chart label="Ground track on a map of the world" make={() => mapChart(t, width)} deps={[t, width]} />
          </>
        ) : null}
      </Section>
      <Section title="Onboard models">
        <ErrorNote error={usage.error} />
        <Table
          rows={usage.data}
          empty="No calls to the onboard models yet."
          head={['Service', 'Model', 'Calls', 'Details']}
          row={(u) => {
            const { service, model, calls, ...rest } = u;
            return (
              <tr key={`${service}/${model}`}>
                <td>{service}</td>
                <td>{model}</td>
                <td>{calls}</td>
                <td class="muted">
                  {Object.entries(rest)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join(', ')}
                </td>
              </tr>
            );
          }}
        />
      </Section>
    </>
  );
}
