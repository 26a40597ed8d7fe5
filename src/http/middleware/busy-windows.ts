import type { MiddlewareHandler } from 'hono';
import type { WindowConfig } from '../../config/schema.ts';
import type { Clock } from '../../domain/clock.ts';
import { SimError } from '../../domain/errors.ts';
import { compileWindows, coveredUntil } from '../../domain/windows.ts';
import type { AppEnv } from '../env.ts';

/**
 * While a configured busy window is open (on the simulator clock), CG2 answers every request
 * it reaches with 423 CG2_BUSY. Mounted on /em/* only: /auth/ and /sim/* are never locked.
 *
 * Retry-After is in real seconds, because that is what a client sleeps: the simulated time
 * left in the merged window divided by the clock's speed (the same thing at the default
 * speed of 1). A manually advanced clock cannot be predicted, so the header is then only a hint.
 */
export function busyWindows(windows: WindowConfig[], clock: Clock & { readonly speed?: number }): MiddlewareHandler<AppEnv> {
  const compiled = compileWindows(windows);
  return async (_c, next) => {
    if (compiled.length) {
      const now = clock.now();
      const end = coveredUntil(compiled, now);
      if (end !== null) {
        const finite = Number.isFinite(end);
        const until = finite ? ` until ${new Date(end).toISOString()}` : '';
        throw new SimError('CG2_BUSY', `CG2 is busy${until} (a busy window is open); retry after it ends`, {
          ...(finite ? { retryAfter: (end - now) / 1000 / (clock.speed ?? 1) } : {}),
        });
      }
    }
    await next();
  };
}
