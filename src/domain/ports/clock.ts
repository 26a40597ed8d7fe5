/**
 * The one clock that scheduling, max_duration, node windows, busy windows and token expiry read.
 * Times are simulated epoch milliseconds; a timer fires when simulated time reaches its moment,
 * whether time got there by running (at any speed) or by being set or advanced.
 *
 * Implemented by src/adapters/clock/sim-clock.ts (simulated time at a configurable speed);
 * `em-sim token` uses a plain real-time clock.
 */
export interface Clock {
  /** Simulated epoch milliseconds. */
  now(): number;
  /** Simulated milliseconds per real millisecond (1 unless clock.speed says otherwise). */
  readonly speed: number;
  /** Calls fn once simulated time reaches atMs. Returns a function that cancels the timer. */
  at(atMs: number, fn: () => void): () => void;
  /** Resolves after `ms` of simulated time. */
  sleep(ms: number): Promise<void>;
  /**
   * Maps a real (wall-clock) epoch time, such as a container engine's timestamp, onto the
   * simulated clock: now minus the real time elapsed since, times the speed.
   */
  fromRealTime(realMs: number): number;
}

/** The clock /sim/clock moves (clock.control). */
export interface ControllableClock extends Clock {
  set(atMs: number): void;
  advance(ms: number): void;
  /** Resolves once every timer released by the last set/advance has run its synchronous part. */
  settle(): Promise<void>;
  close(): void;
}
