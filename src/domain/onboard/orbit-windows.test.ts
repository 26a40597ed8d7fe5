import { describe, expect, it } from 'vitest';
import { NodeSchedule, type NodesSettings } from '../nodes/node-schedule.ts';
import { BusyWindows } from '../busy-windows.ts';
import type { Clock } from '../ports/clock.ts';
import { Orbit } from './orbit.ts';
import { orbitWindow } from './orbit-windows.ts';

const orbit = new Orbit();
const LAUSANNE = { latitude: 46.52, longitude: 6.63, altitudeM: 500, minElevationDeg: 10 };
const T0 = Date.parse('2026-12-01T00:00:00Z');

function nodes(availability: NodesSettings['GPU']['availability']): NodeSchedule {
  const plain = { cpus: 1, memoryMb: 512 };
  return new NodeSchedule({ FPGA: plain, MPU: plain, GPU: { ...plain, ...(availability ? { availability } : {}) }, onUnavailable: 'stop' });
}

describe('windows that follow the orbit', () => {
  it('sunlit and eclipse alternate once an orbit, their edges where the shadow starts and ends', () => {
    const schedule = nodes([orbitWindow('sunlit', orbit, LAUSANNE)]);
    let t = T0;
    const edges: number[] = [];
    for (let i = 0; i < 4; i++) {
      const a = schedule.availability('GPU', t);
      expect(a.until).not.toBeNull();
      expect(orbit.sunlit(a.until! - 2000)).toBe(a.available);
      expect(orbit.sunlit(a.until! + 2000)).toBe(!a.available);
      edges.push(a.until!);
      t = a.until!;
    }
    // Two edges apart is one orbit (94.6 min for 15.22 revolutions a day), to within a sampling step.
    expect((edges[2]! - edges[0]!) / 60_000).toBeCloseTo(orbit.periodSeconds / 60, 0);
    const eclipse = nodes([orbitWindow('eclipse', orbit, LAUSANNE)]).availability('GPU', edges[0]!);
    // At an edge, the eclipse window is open exactly when sunlight was there just before.
    expect(eclipse.available).toBe(schedule.availability('GPU', edges[0]! - 2000).available);
  });

  it('ground passes over a station: minutes long, above the minimum elevation in the middle, CG2 busy during them', () => {
    const pass = orbitWindow('ground-passes', orbit, LAUSANNE);
    const schedule = nodes([pass]);
    const before = schedule.availability('GPU', T0);
    const start = before.available ? T0 : before.until!;
    expect(start - T0).toBeLessThan(86_400_000);
    const end = schedule.availability('GPU', start).until!;
    expect((end - start) / 60_000).toBeGreaterThan(0.5);
    expect((end - start) / 60_000).toBeLessThan(15);
    expect(orbit.elevation((start + end) / 2, { ...LAUSANNE, altitudeKm: 0.5 })).toBeGreaterThanOrEqual(10);

    let now = start + 1000;
    const busy = new BusyWindows([pass], { now: () => now, speed: 1 } as Clock);
    expect(() => busy.check()).toThrow(/CG2 is busy until/);
    now = end + 1000;
    expect(() => busy.check()).not.toThrow();
  });
});
