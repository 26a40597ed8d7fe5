import type { Clock } from '../ports/clock.ts';
import type { ServiceCall, UsageStore, UsageTotal } from '../ports/usage-store.ts';

/**
 * The metering of the onboard models: the provider bills every call to Ollama and LiquidAI
 * ("API requests are tracked and chargeable", docs/1-howto/5-liquidai.md), so a dry run counts
 * them per user and model, with tokens and images (/sim/services/usage). Kept in SQLite.
 */
export class ServiceUsage {
  constructor(
    private readonly store: UsageStore,
    private readonly clock: Clock,
  ) {}

  /** Counts one call, at the simulated time. */
  record(call: Omit<ServiceCall, 'at'>): void {
    this.store.record({ ...call, at: this.clock.now() });
  }

  /** The user's totals by service and model (only their own). */
  totals(user: string): UsageTotal[] {
    return this.store.totals(user);
  }
}
