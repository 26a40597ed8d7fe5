import { SimError } from './errors.ts';
import type { ContainerRuntime } from './ports/container-runtime.ts';
import type { Logger } from './ports/logger.ts';
import type { PodService } from './pods/pod-service.ts';

/**
 * Whether the container engine answers, for the endpoints that need it (pods and images answer
 * 503 DOCKER_UNAVAILABLE without one, while the file endpoints keep working). Whenever the engine
 * is seen answering after it was not (or at start-up), the pods are recovered: containers may
 * have finished unobserved meanwhile, and the exit watch must be renewed.
 */
export class EngineStatus {
  private recovered: Promise<void> | null = null;

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
      throw new SimError('DOCKER_UNAVAILABLE', this.runtime.unavailableMessage());
    }
    await this.recover();
  }

  private recover(): Promise<void> {
    this.recovered ??= this.pods.recover().catch((err) => {
      this.recovered = null;
      throw err;
    });
    return this.recovered;
  }
}
