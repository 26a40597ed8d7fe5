import type { MiddlewareHandler } from 'hono';
import { SimError } from '../../domain/errors.ts';
import type { AppEnv } from '../env.ts';

/**
 * Pod and image endpoints need the container engine. Without one they answer 503 with what to
 * start, while the file endpoints keep working; `onAvailable` runs once the engine answers
 * (again), so the simulator catches up with containers it could not watch meanwhile.
 */
export function requireEngine(engine: {
  available(): Promise<boolean>;
  missingMessage(): string;
  onAvailable(): Promise<void>;
}): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    if (!(await engine.available())) throw new SimError('DOCKER_UNAVAILABLE', engine.missingMessage());
    await engine.onAvailable();
    await next();
  };
}
