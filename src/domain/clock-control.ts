import { SimError } from './errors.ts';
import type { ControllableClock } from './ports/clock.ts';
import { parseZonedIso } from './time/iso-time.ts';

/** The clock as /sim/clock shows it. */
export interface ClockState {
  /** Simulated now, ISO 8601 with milliseconds. */
  now: string;
  speed: number;
  /** clock.control: whether the clock may be moved. */
  control: boolean;
}

const DECIMAL = /^\s*\d+(\.\d+)?\s*$/;
// Far enough for any test or training scenario, near enough that every Date stays valid.
const MAX_ADVANCE_SECONDS = 100 * 365 * 86_400;
const EARLIEST = Date.parse('1970-01-01T00:00:00Z');
const LATEST = Date.parse('9999-12-31T23:59:59Z');

/**
 * /sim/clock: reads and moves the simulated clock that schedules, max_duration, node windows, busy
 * windows and token expiry read. Moving it needs clock.control, because on a shared simulator it
 * moves everybody's time.
 */
export class ClockControl {
  constructor(
    private readonly clock: ControllableClock,
    private readonly control: boolean,
  ) {}

  state(): ClockState {
    return { now: new Date(this.clock.now()).toISOString(), speed: this.clock.speed, control: this.control };
  }

  /**
   * Moves the clock forward by `advanceSeconds` (a decimal number of seconds) or to `set` (ISO
   * 8601 with a timezone, 1970 to 9999); exactly one of them. Resolves once the timers the move
   * made due have run their synchronous part, with the answer's message. CLOCK_CONTROL_DISABLED,
   * MISSING_PARAMETER, INVALID_PARAMETER.
   */
  async move(request: { advanceSeconds?: string; set?: string }): Promise<string> {
    if (!this.control) {
      throw new SimError('CLOCK_CONTROL_DISABLED', 'The simulated clock cannot be moved: set clock.control: true in sim-config.yaml to allow it');
    }
    if (request.advanceSeconds !== undefined && request.set !== undefined) {
      throw new SimError('INVALID_PARAMETER', 'Give either "advance_seconds" or "set", not both');
    }
    let message: string;
    if (request.advanceSeconds !== undefined) {
      const seconds = parseSeconds(request.advanceSeconds);
      this.clock.advance(seconds * 1000);
      message = `Clock advanced by ${seconds} seconds`;
    } else if (request.set !== undefined) {
      this.clock.set(parseTime(request.set));
      message = 'Clock set';
    } else {
      throw new SimError('MISSING_PARAMETER', 'Give "advance_seconds" (seconds to move forward) or "set" (an ISO 8601 time with a timezone)');
    }
    await this.clock.settle();
    return message;
  }
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
  // The parameter must be the time and nothing else: no surrounding spaces.
  const ms = raw === raw.trim() ? parseZonedIso(raw) : null;
  if (ms === null || ms < EARLIEST || ms > LATEST) {
    throw new SimError(
      'INVALID_PARAMETER',
      `Parameter "set": ${JSON.stringify(raw)} is not an ISO 8601 time with a timezone between 1970 and 9999, e.g. 2025-05-22T12:10:00+02:00`,
    );
  }
  return ms;
}
