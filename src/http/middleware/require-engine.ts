import type { MiddlewareHandler } from 'hono';
import type { EngineStatus } from '../../domain/engine-status.ts';
import type { AppEnv } from '../env.ts';

/**
 * Pod and image endpoints need the container engine: without one they answer 503
 * DOCKER_UNAVAILABLE with what to start, while the file endpoints keep working.
 */
export function requireEngine(engine: EngineStatus): MiddlewareHandler<AppEnv> {
  return (_c, next) => {
    const checking = engine.check();
    return checking ? checking.then(next) : next();
  };
}
