import { z } from 'zod';
import { SimError } from '../../domain/errors.ts';
import { TIMELINE_MAX_HOURS, type SatelliteTimelineService } from '../../domain/satellite-timeline.ts';
import { integer, text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

/** The most ground-track points one answer holds: hours × 3600 / step_seconds. */
const MAX_TRACK_POINTS = 10_000;

/** GET /sim/satellite: the dashboard's satellite page (simulator only). */
export function registerSatelliteRoute(routes: RouteTable, deps: { timeline: SatelliteTimelineService }): void {
  routes.add(
    {
      methods: ['GET'],
      path: '/sim/satellite',
      tag: 'sim',
      summary: 'The next orbits: each node\'s power, busy windows, eclipses, your pod runs and the ground track (simulator only)',
      description:
        'Every time is on the simulated clock. orbits run from one ascending node to the next; nodes[].powered lists when each node ' +
        'is available (nodes.*.availability); busy lists the busy_windows in which /em/* answers 423; runs are your own pods ' +
        'that touch the range, scheduled ones included; ground_track samples the telemetry twin\'s SGP4 orbit (orbit and ' +
        'eclipse edges are exact to a second whatever the step). truncated: a window list was cut at 5000 spans.',
      params: z.object({
        hours: text().optional().describe(`hours ahead of now, more than 0 and at most ${TIMELINE_MAX_HOURS} (fractions allowed); default 3`),
        step_seconds: integer(10, 600).optional().describe('seconds between ground-track points, 10 to 600; default 60'),
      }),
      success: {
        description: 'The timeline',
        example: {
          now: '2026-12-01T10:00:00.000Z',
          from: '2026-12-01T09:45:00.000Z',
          to: '2026-12-01T13:00:00.000Z',
          period_seconds: 5671.2,
          position: { time: '2026-12-01T10:00:00.000Z', latitude: 12.3, longitude: -45.6, altitude_km: 512.4, sunlit: true },
          orbits: [{ number: 1, start: '2026-12-01T09:45:00.000Z', end: '2026-12-01T10:20:11.000Z' }],
          nodes: [{ node: 'GPU', powered: [{ start: '2026-12-01T09:45:00.000Z', end: '2026-12-01T10:30:00.000Z' }] }],
          busy: [],
          eclipses: [{ start: '2026-12-01T10:40:00.000Z', end: '2026-12-01T11:15:00.000Z' }],
          runs: [{ pod_name: 'experiment', node: 'GPU', phase: 'scheduled', due: '2026-12-01T11:00:00.000Z', started: null, finished: null, reason: null }],
          ground_track: [{ time: '2026-12-01T09:45:00.000Z', latitude: -30.1, longitude: -80.2 }],
          step_seconds: 60,
          truncated: false,
        },
      },
      errors: ['INVALID_PARAMETER'],
    },
    (c, p) => {
      const hours = p.hours === undefined ? 3 : /^\s*\d+(\.\d+)?\s*$/.test(p.hours) ? Number(p.hours) : NaN;
      if (!(hours > 0 && hours <= TIMELINE_MAX_HOURS)) {
        throw new SimError('INVALID_PARAMETER', `Parameter "hours": expected a number of hours more than 0 and at most ${TIMELINE_MAX_HOURS}, got ${JSON.stringify(p.hours)}`);
      }
      const step = p.step_seconds ?? 60;
      if ((hours * 3600) / step > MAX_TRACK_POINTS) {
        throw new SimError('INVALID_PARAMETER', `${hours} hours every ${step} s is more than ${MAX_TRACK_POINTS} ground-track points; raise step_seconds`);
      }
      return c.json(deps.timeline.timeline(c.get('user'), hours, step), 200);
    },
  );
}
