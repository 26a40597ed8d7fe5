import type { ServiceCall, UsageStore, UsageTotal } from '../../domain/ports/usage-store.ts';
import type { SqliteDatabase } from './database.ts';

/** The UsageStore port in SQLite: one row per user, service and model, counted up per call. */
export class SqliteUsageStore implements UsageStore {
  constructor(private readonly db: SqliteDatabase) {}

  record(call: ServiceCall): void {
    this.db
      .statement(
        `INSERT INTO service_usage (username, service, model, calls, prompt_tokens, completion_tokens, images, first_at, last_at)
         VALUES (?, ?, ?, 1, ?, ?, ?, ?, ?)
         ON CONFLICT (username, service, model) DO UPDATE SET
           calls = calls + 1,
           prompt_tokens = prompt_tokens + excluded.prompt_tokens,
           completion_tokens = completion_tokens + excluded.completion_tokens,
           images = images + excluded.images,
           last_at = excluded.last_at`,
      )
      .run(call.user, call.service, call.model, call.promptTokens, call.completionTokens, call.images, call.at, call.at);
  }

  totals(user: string): UsageTotal[] {
    const rows = this.db
      .statement('SELECT service, model, calls, prompt_tokens, completion_tokens, images, first_at, last_at FROM service_usage WHERE username = ? ORDER BY service, model')
      .all(user) as { service: string; model: string; calls: number; prompt_tokens: number; completion_tokens: number; images: number; first_at: number; last_at: number }[];
    return rows.map(({ first_at, last_at, ...row }) => ({
      ...row,
      first_call: new Date(first_at).toISOString(),
      last_call: new Date(last_at).toISOString(),
    }));
  }
}
