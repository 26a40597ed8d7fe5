import { SimError } from './errors.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { Logger } from './ports/logger.ts';
import type { PodService } from './pods/pod-service.ts';

/**
 * How long a check that found the engine answering holds for check() (ms, real time): on top of
 * the runtime's own one-second ping cache, an engine that went away is noticed within 1.5 s.
 */
const ANSWER_HOLDS_MS = 500;

/**
 * Whether the container engine answers, for the endpoints that need it (pods and images answer
 * 503 DOCKER_UNAVAILABLE without one, while the file endpoints keep working). Whenever the engine
 * is seen answering after it was not (or at start-up), the pods are recovered: containers may
 * have finished unobserved meanwhile, and the exit watch must be renewed.
 */
export class EngineStatus {
  private recovered: Promise<void> | null = null;
  /** Set once `recovered` has resolved (and cleared with it). */
  private recoveredDone = false;
  /** Until when (performance.now() ms) the last check that found the engine answering holds. */
  private answeredUntil = 0;

  constructor(
    private readonly runtime: ContainerRuntime,
    private readonly pods: PodService,
    private readonly logger: Logger,
  ) {}

  /** At start-up: recovers the pods when the engine answers; false (and nothing done) when it does not. */
  async start(): Promise<boolean> {
    if (!(await this.runtime.available())) return false;
    await this.recover();
    return true;
  }

  /** Throws DOCKER_UNAVAILABLE (with what to start) unless the engine answers; recovers the pods once it is back. */
  async require(): Promise<void> {
    if (!(await this.runtime.available())) {
      if (this.recovered) this.logger.warn('container engine stopped answering', { engine: this.runtime.describe() });
      this.recovered = null;
      this.recoveredDone = false;
      throw new SimError('DOCKER_UNAVAILABLE', this.runtime.unavailableMessage());
    }
    await this.recover();
    this.answeredUntil = performance.now() + ANSWER_HOLDS_MS;
  }

  /**
   * require() for the request path: nothing (no promise) while a check within the last
   * ANSWER_HOLDS_MS found the engine answering and the pods recovered; otherwise require()'s promise.
   */
  check(): Promise<void> | undefined {
    // performance.now() is monotonic: no clock set back can stretch the hold.
    if (this.recoveredDone && performance.now() < this.answeredUntil) return undefined;
    return this.require();
  }

  private recover(): Promise<void> {
    if (this.recovered) return this.recovered;
    const recovering: Promise<void> = this.pods.recover().then(
      () => {
        // Only this recovery's own success: one the engine's going away superseded says nothing.
        if (this.recovered === recovering) this.recoveredDone = true;
      },
      (err) => {
        if (this.recovered === recovering) this.recovered = null;
        throw err;
      },
    );
    this.recovered = recovering;
    return recovering;
  }
}
