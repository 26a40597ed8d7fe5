import { z } from 'zod';
import type { ClockControl } from '../../domain/clock-control.ts';
import { text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

/** Simulator-only endpoints, outside /em/ so nobody mistakes them for the EM's API. */
export function registerHealthRoute(routes: RouteTable, info: { version: string }): void {
  routes.add(
    {
      methods: ['GET'],
      path: '/sim/health',
      tag: 'sim',
      auth: false,
      summary: 'Whether the simulator is up, and its version (simulator only; never locked)',
      success: { description: 'Up', example: { status: 'ok', version: info.version } },
      errors: [],
    },
    (c) => c.json({ status: 'ok', version: info.version }, 200),
  );
}

const clockParams = z.object({
  advance_seconds: text().optional().describe('seconds of simulated time to move forward (a number, fractions allowed)'),
  set: text().optional().describe('the new simulated time, ISO 8601 with a timezone, e.g. 2025-05-22T12:10:00+02:00'),
});

const clockExample = { now: '2025-05-22T10:10:00.000Z', speed: 1, control: true };

/**
 * The simulated clock that schedules, max_duration, node windows, busy windows and token expiry
 * read. Moving it needs clock.control: on a shared simulator it would move everybody's time.
 */
export function registerClockRoutes(routes: RouteTable, deps: { clock: ClockControl }): void {
  const { clock } = deps;

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/clock',
      tag: 'sim',
      summary: 'The simulated time, the clock\'s speed and whether POST /sim/clock may move it',
      success: { description: 'The clock', example: { message: 'Simulated clock', data: clockExample } },
      errors: [],
    },
    (c) => c.json({ message: 'Simulated clock', data: clock.state() }, 200),
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/sim/clock',
      tag: 'sim',
      summary: 'Move the simulated clock: advance_seconds forward, or set to a time (needs clock.control: true)',
      description:
        'Timers that the move makes due (scheduled runs, max_duration, node windows) fire before the answer is sent; ' +
        'what they start may still be under way, so poll /em/pod/status. Setting a time in the past is allowed; ' +
        'what already happened stays done.',
      params: clockParams,
      success: { description: 'The clock after the move', example: { message: 'Clock advanced by 3600 seconds', data: clockExample } },
      errors: ['CLOCK_CONTROL_DISABLED', 'MISSING_PARAMETER', 'INVALID_PARAMETER'],
    },
    async (c, p) => {
      const message = await clock.move({ advanceSeconds: p.advance_seconds, set: p.set });
      return c.json({ message, data: clock.state() }, 200);
    },
  );
}
