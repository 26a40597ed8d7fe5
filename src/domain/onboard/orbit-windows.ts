import type { PredicateWindow } from '../time/windows.ts';
import type { Orbit } from './orbit.ts';

/*
 * Windows that follow the orbit (sim-config.yaml: `nodes.GPU.availability: sunlit`,
 * `busy_windows: ground-passes`): a node powered only in sunlight waits through eclipses as it
 * would onboard, and CG2 is busy while a ground station sees it (the EM serves downlinks then).
 */

/** The orbit-derived windows a configuration may name. */
export const ORBIT_WINDOWS = ['sunlit', 'eclipse', 'ground-passes'] as const;
/** One of them. */
export type OrbitWindowName = (typeof ORBIT_WINDOWS)[number];

/** A ground station: degrees, metres, and the elevation above which it sees the satellite. */
export interface GroundStation {
  latitude: number;
  longitude: number;
  altitudeM: number;
  minElevationDeg: number;
}

/** Looking at most two days ahead covers every orbit and a station's daily passes. */
const HORIZON_MS = 2 * 86_400_000;

/**
 * The window `name` on `orbit`: sunlit and eclipse sampled every 30 s (a 500 km orbit's eclipse
 * lasts over half an hour), ground passes every 15 s (a pass above 10° lasts minutes).
 */
export function orbitWindow(name: OrbitWindowName, orbit: Orbit, station: GroundStation): PredicateWindow {
  switch (name) {
    case 'sunlit':
      return { name, holds: (t) => orbit.sunlit(t), stepMs: 30_000, horizonMs: HORIZON_MS };
    case 'eclipse':
      return { name, holds: (t) => !orbit.sunlit(t), stepMs: 30_000, horizonMs: HORIZON_MS };
    case 'ground-passes': {
      const site = { latitude: station.latitude, longitude: station.longitude, altitudeKm: station.altitudeM / 1000 };
      return { name, holds: (t) => orbit.elevation(t, site) >= station.minElevationDeg, stepMs: 15_000, horizonMs: HORIZON_MS };
    }
  }
}
