import { SimError } from './errors.ts';
import type { Clock } from './ports/clock.ts';
import { compileWindows, coveredUntil, windowState, type CompiledWindows, type WindowSpec } from './time/windows.ts';

/**
 * CG2's busy periods (sim-config.yaml `busy_windows`): while one is open on the simulated clock,
 * every EM request is answered with 423 CG2_BUSY (api-decisions.md). /auth/ and /sim/* are never
 * locked; the HTTP layer decides where the rule applies.
 */
export class BusyWindows {
  private readonly windows: CompiledWindows;

  constructor(
    windows: readonly WindowSpec[],
    private readonly clock: Clock,
  ) {
    this.windows = compileWindows(windows);
  }

  /**
   * When the busy window open now ends (simulated epoch ms; Infinity for one without end), or null
   * when CG2 is not busy. Operations wait for it instead of failing (operations-decisions.md).
   */
  busyUntil(): number | null {
    if (!this.windows.length) return null;
    return coveredUntil(this.windows, this.clock.now());
  }

  /** Whether a busy window is open at simulated time t (epoch ms), and until when that stays so (null: for ever). */
  at(t: number): { inside: boolean; until: number | null } {
    return windowState(this.windows, t);
  }

  /**
   * Throws CG2_BUSY while a window is open. Its retryAfter is in real seconds, because that is
   * what a client sleeps: the simulated time left in the merged window divided by the clock's
   * speed. A manually advanced clock cannot be predicted, so it is then only a hint.
   */
  check(): void {
    const now = this.clock.now();
    const end = this.busyUntil();
    if (end === null) return;
    const finite = Number.isFinite(end);
    const until = finite ? ` until ${new Date(end).toISOString()}` : '';
    throw new SimError('CG2_BUSY', `CG2 is busy${until} (a busy window is open); retry after it ends`, {
      ...(finite ? { retryAfter: (end - now) / 1000 / this.clock.speed } : {}),
    });
  }
}
