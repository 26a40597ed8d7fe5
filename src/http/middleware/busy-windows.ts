import type { MiddlewareHandler } from 'hono';
import { BusyWindows } from '../../domain/busy-windows.ts';
import type { Clock } from '../../domain/ports/clock.ts';
import type { WindowSpec } from '../../domain/time/windows.ts';
import type { AppEnv } from '../env.ts';

/**
 * 423 CG2_BUSY while a configured busy window is open (domain/busy-windows.ts decides, with
 * Retry-After in real seconds). Mounted on /em/* only: /auth/ and /sim/* are never locked.
 */
export function busyWindows(windows: readonly WindowSpec[], clock: Clock): MiddlewareHandler<AppEnv> {
  const rule = new BusyWindows(windows, clock);
  return async (_c, next) => {
    rule.check();
    await next();
  };
}
