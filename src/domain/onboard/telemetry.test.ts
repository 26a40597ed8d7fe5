import { describe, expect, it } from 'vitest';
import type { Clock } from '../ports/clock.ts';
import { Orbit } from './orbit.ts';
import { TelemetryService } from './telemetry.ts';

const START = Date.parse('2026-12-01T12:00:30Z');

function service(now = START, frames: Record<string, string> = { '20230608.png': 'a', '20251031.png': 'b', '20240101.png': 'c' }) {
  const clock = { now: () => now, speed: 1 } as Clock;
  const camera = {
    list: async () => Object.keys(frames),
    read: async (name: string) => (name in frames ? new TextEncoder().encode(frames[name]) : null),
  };
  return new TelemetryService(new Orbit(), clock, camera, { intervalSeconds: 60, historyHours: 1 });
}

describe('TelemetryService', () => {
  it('keeps one record of each type a minute over the history, newest first, none in the future', () => {
    const t = service();
    expect(t.stats()).toMatchObject({ total_records: 360, earliest_timestamp: '2026-12-01T11:01:00Z', latest_timestamp: '2026-12-01T12:00:00Z' });
    const all = t.query({});
    expect(all).toHaveLength(360);
    expect(all[0]!.timestamp).toBe('2026-12-01T12:00:00Z');
    expect(all.at(-1)!.timestamp).toBe('2026-12-01T11:01:00Z');
    expect(t.query({ endMs: START + 3_600_000 })[0]!.timestamp).toBe('2026-12-01T12:00:00Z');
  });

  it('filters by type, time range and limit as the query string asks', () => {
    const t = service();
    const range = t.query({ startMs: Date.parse('2026-12-01T11:30:00Z'), endMs: Date.parse('2026-12-01T11:32:59Z'), dataType: 'position' });
    expect(range.map((r) => r.timestamp)).toEqual(['2026-12-01T11:32:00Z', '2026-12-01T11:31:00Z', '2026-12-01T11:30:00Z']);
    expect(t.query({ limit: 4 }).map((r) => r.data_type)).toEqual(['attitude', 'complete', 'position', 'power']);
    expect(t.query({ limit: 0 })).toEqual([]);
    expect(t.query({ dataType: 'radiation' })).toEqual([]);
  });

  it('gives the same record for the same moment (ids, values), and latest one per type', () => {
    const a = service().latest();
    const b = service(START + 20_000).latest();
    expect(a).toEqual(b);
    expect(a.map((r) => r.data_type)).toEqual(['attitude', 'complete', 'position', 'power', 'temperature', 'velocity']);
    expect(new Set(a.map((r) => r.id)).size).toBe(6);
    expect(service().latest('velocity')).toHaveLength(1);
  });

  it('serves one frame by name, several or none as a zip (newest first, limit honoured), and names a missing one', async () => {
    const t = service();
    expect(await t.imageNames()).toEqual(['20230608.png', '20240101.png', '20251031.png']);
    expect(await t.selectImages(['20240101.png'], undefined)).toMatchObject({ kind: 'image', name: '20240101.png' });
    expect(await t.selectImages(['nope.png'], undefined)).toEqual({ kind: 'not-found', name: 'nope.png' });
    const recent = await t.selectImages(undefined, 2);
    expect(recent.kind === 'zip' && recent.files.map((f) => f.name)).toEqual(['20251031.png', '20240101.png']);
    const two = await t.selectImages(['20230608.png', 'nope.png'], undefined);
    expect(two).toEqual({ kind: 'not-found', name: 'nope.png' });
    // A name asked many times goes in once: no zip is bigger than the camera's frames.
    const repeated = await t.selectImages(Array(300).fill('20230608.png'), undefined);
    expect(repeated.kind === 'zip' && repeated.files.map((f) => f.name)).toEqual(['20230608.png']);
    const negative = await t.selectImages([], -3);
    expect(negative).toEqual({ kind: 'zip', files: [] });
  });
});
