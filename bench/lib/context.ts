/** What bench/run.ts hands every benchmark. */
export interface BenchContext {
  /** A temporary directory for this run's large files, removed at the end. */
  work: string;
  /** The 1 GiB file of random bytes that the uplink and downlink benchmarks send (made once). */
  bigFile(): string;
  log(message: string): void;
}
