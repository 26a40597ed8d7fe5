import type { MiddlewareHandler } from 'hono';
import { SimError } from '../../domain/errors.ts';
import type { AppEnv } from '../env.ts';

export interface EngineState {
  available(): Promise<boolean>;
  missingMessage(): string;
  onAvailable(): Promise<void>;
}

/**
 * Pod and image endpoints need the container engine. Without one they answer 503 with what to
 * start, while the file endpoints keep working; `onAvailable` runs once the engine answers
 * (again), so the simulator catches up with containers it could not watch meanwhile.
 */
export async function ensureEngine(engine: EngineState): Promise<void> {
  if (!(await engine.available())) throw new SimError('DOCKER_UNAVAILABLE', engine.missingMessage());
  await engine.onAvailable();
}

/** ensureEngine as middleware, for every route under a path. */
export function requireEngine(engine: EngineState): MiddlewareHandler<AppEnv> {
  return async (_c, next) => {
    await ensureEngine(engine);
    await next();
  };
}
