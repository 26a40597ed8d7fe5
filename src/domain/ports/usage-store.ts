/*
 * What the onboard models were asked, per user and model: the provider bills these calls
 * (onboard-platform.md 3.2 and 3.3: "paid/tracked"). Implemented by
 * src/adapters/sqlite/usage-store.ts, so a restart keeps the count.
 */

/** One call to a model. */
export interface ServiceCall {
  user: string;
  /** "ollama" or "liquidai". */
  service: string;
  /** The model as the service names it ("gemma3:4b", "LFM2-VL-3B"). */
  model: string;
  /** Which endpoint: "generate", "chat", "embed", "chat.completions". */
  endpoint: string;
  promptTokens: number;
  completionTokens: number;
  images: number;
  /** Simulated epoch ms. */
  at: number;
}

/** One user's total for one service and model. */
export interface UsageTotal {
  service: string;
  model: string;
  calls: number;
  prompt_tokens: number;
  completion_tokens: number;
  images: number;
  /** ISO times (simulated) of the first and the latest call. */
  first_call: string;
  last_call: string;
}

/** The port itself. */
export interface UsageStore {
  record(call: ServiceCall): void;
  /** The user's totals, by service then model. */
  totals(user: string): UsageTotal[];
}
