import { z } from 'zod';
import type { ControllableClock } from '../../domain/clock.ts';
import { SimError } from '../../domain/errors.ts';
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

export interface ClockRouteDeps {
  clock: ControllableClock;
  /** clock.control in the configuration: whether POST /sim/clock may move time. */
  clockControl: boolean;
}

const ISO_WITH_ZONE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}(:?\d{2})?)$/i;
const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;
// Far enough for any test or training scenario, near enough that every Date stays valid.
const MAX_ADVANCE_SECONDS = 100 * 365 * 86_400;
const EARLIEST = Date.parse('1970-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59Z');

const clockParams = z.object({
  advance_seconds: text().optional().describe('seconds of simulated time to move forward (a number, fractions allowed)'),
  set: text().optional().describe('the new simulated time, ISO 8601 with a timezone, e.g. 2025-05-22T12:10:00+02:00'),
});

const clockExample = { now: '2025-05-22T10:10:00.000Z', speed: 1, control: true };

/**
 * The simulated clock that schedules, max_duration, node windows, busy windows and token expiry
 * read. Moving it needs clock.control: on a shared simulator it would move everybody's time.
 */
export function registerClockRoutes(routes: RouteTable, deps: ClockRouteDeps): void {
  const { clock } = deps;
  const state = () => ({ now: new Date(clock.now()).toISOString(), speed: clock.speed, control: deps.clockControl });

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/clock',
      tag: 'sim',
      summary: 'The simulated time, the clock\'s speed and whether POST /sim/clock may move it',
      success: { description: 'The clock', example: { message: 'Simulated clock', data: clockExample } },
      errors: [],
    },
    (c) => c.json({ message: 'Simulated clock', data: state() }, 200),
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
      if (!deps.clockControl) {
        throw new SimError('CLOCK_CONTROL_DISABLED', 'The simulated clock cannot be moved: set clock.control: true in sim-config.yaml to allow it');
      }
      if (p.advance_seconds !== undefined && p.set !== undefined) {
        throw new SimError('INVALID_PARAMETER', 'Give either "advance_seconds" or "set", not both');
      }
      let message: string;
      if (p.advance_seconds !== undefined) {
        const seconds = parseSeconds(p.advance_seconds);
        clock.advance(seconds * 1000);
        message = `Clock advanced by ${seconds} seconds`;
      } else if (p.set !== undefined) {
        clock.set(parseTime(p.set));
        message = 'Clock set';
      } else {
        throw new SimError('MISSING_PARAMETER', 'Give "advance_seconds" (seconds to move forward) or "set" (an ISO 8601 time with a timezone)');
      }
      await clock.settle();
      return c.json({ message, data: state() }, 200);
    },
  );
}

function parseSeconds(raw: string): number {
  const seconds = DECIMAL.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(seconds) || seconds > MAX_ADVANCE_SECONDS) {
    throw new SimError(
      'INVALID_PARAMETER',
      `Parameter "advance_seconds": expected a number of seconds from 0 to ${MAX_ADVANCE_SECONDS}, got ${JSON.stringify(raw)}; to go back in time, use "set"`,
    );
  }
  return seconds;
}

function parseTime(raw: string): number {
  const ms = ISO_WITH_ZONE.test(raw) && realDate(raw) ? Date.parse(raw.replace(' ', 'T')) : NaN;
  if (Number.isNaN(ms) || ms < EARLIEST || ms > LATEST) {
    throw new SimError(
      'INVALID_PARAMETER',
      `Parameter "set": ${JSON.stringify(raw)} is not an ISO 8601 time with a timezone between 1970 and 9999, e.g. 2025-05-22T12:10:00+02:00`,
    );
  }
  return ms;
}

/** V8 reads 2030-02-31 as March 3rd; a day the month does not have is a typo, not a time. */
function realDate(raw: string): boolean {
  const [y, m, d] = raw.slice(0, 10).split('-').map(Number) as [number, number, number];
  const date = new Date(Date.UTC(y, m - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === m - 1 && date.getUTCDate() === d;
}
