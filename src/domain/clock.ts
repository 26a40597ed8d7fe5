/**
 * The one clock that scheduling, max_duration, node windows, busy windows and token expiry read.
 * Times are simulated epoch milliseconds; a timer fires when simulated time reaches its moment,
 * whether time got there by running (at any speed) or by being set or advanced.
 */
export interface Clock {
  now(): number;
  /** Calls fn once simulated time reaches atMs. Returns a function that cancels the timer. */
  at(atMs: number, fn: () => void): () => void;
  /** Resolves after `ms` of simulated time. */
  sleep(ms: number): Promise<void>;
}

export interface ControllableClock extends Clock {
  readonly speed: number;
  set(atMs: number): void;
  advance(ms: number): void;
  /** Resolves once every timer released by the last set/advance has run its synchronous part. */
  settle(): Promise<void>;
  close(): void;
}
