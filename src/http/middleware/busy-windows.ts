import type { MiddlewareHandler } from 'hono';
import type { BusyWindows } from '../../domain/busy-windows.ts';
import type { AppEnv } from '../env.ts';

/**
 * 423 CG2_BUSY while a configured busy window is open (domain/busy-windows.ts decides, with
 * Retry-After in real seconds). Mounted on /em/* only: /auth/ and /sim/* are never locked.
 */
export function busyWindows(rule: BusyWindows): MiddlewareHandler<AppEnv> {
  return (_c, next) => {
    rule.check();
    return next();
  };
}
