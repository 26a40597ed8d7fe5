import { createHash } from 'node:crypto';
import type { Clock } from '../ports/clock.ts';
import type { ServiceUsage } from './service-usage.ts';
import { countTokens, simulatedAnswer, streamPieces, truncateTokens } from './simulated-text.ts';

/*
 * The LiquidAI twin behind http://liquid-3b.dphi-public (onboard-platform.md 3.3): llama.cpp's
 * llama-server running LFM2-VL-3B (Q4_0 with its Q8_0 vision projector), one slot, a context of
 * 4096 tokens, answering OpenAI's chat-completion shape. The model field of a request is not
 * used to choose a model (llama-server serves the one it loaded).
 */

/** The model llama-server loaded onboard; what usage counts calls against. */
export const LIQUID_MODEL = 'LFM2-VL-3B';
const MODEL_FILE = 'LFM2-VL-3B-Q4_0.gguf';
const CONTEXT = 4096;
const IMAGE_TOKENS = 256;
const PROMPT_RATE = 350;
const EVAL_RATE = 28;

/** An error llama-server answers as {"error": {code, message, type}}. */
export class LiquidError extends Error {
  override name = 'LiquidError';
  constructor(
    readonly status: number,
    message: string,
    readonly type: string = status >= 500 ? 'server_error' : 'invalid_request_error',
  ) {
    super(message);
  }
}

/** One message, decoded: its text parts joined, its images' bytes. */
export interface LiquidMessage {
  role: string;
  text: string;
  images: Uint8Array[];
}

/** A chat completion before it is shaped (one JSON object or server-sent events). */
export interface LiquidAnswer {
  id: string;
  /** Unix seconds (simulated). */
  created: number;
  /** The request's model field, echoed as llama-server does. */
  model: string;
  text: string;
  pieces: string[];
  finishReason: 'stop' | 'length';
  promptTokens: number;
  completionTokens: number;
  /** llama-server's timings object (ms and tokens per second). */
  timings: Record<string, number>;
  nsPerPiece: number;
}

/** The twin. */
export class LiquidTwin {
  constructor(
    private readonly clock: Clock,
    private readonly usage: ServiceUsage,
  ) {}

  /** GET /v1/models, llama-server's shape. */
  models(): Record<string, unknown> {
    return {
      object: 'list',
      data: [{ id: MODEL_FILE, object: 'model', created: Math.floor(this.clock.now() / 1000), owned_by: 'llamacpp', meta: { n_ctx_train: 128000, n_params: 2_999_000_000 } }],
    };
  }

  /** POST /v1/chat/completions: answers the last user message. 400 when the prompt exceeds the context. */
  complete(user: string, req: { model: string; messages: LiquidMessage[]; maxTokens?: number }): LiquidAnswer {
    const last = [...req.messages].reverse().find((m) => m.role === 'user') ?? req.messages[req.messages.length - 1]!;
    const images = req.messages.flatMap((m) => m.images);
    const context = req.messages
      .filter((m) => m !== last)
      .map((m) => `${m.role}: ${m.text}`)
      .join('\n');
    // A text far beyond the context is refused without counting every token of it.
    const chars = context.length + last.text.length;
    const promptTokens =
      chars > 16 * CONTEXT ? Math.ceil(chars / 4) : countTokens(context) + countTokens(last.text) + 6 * req.messages.length + images.length * IMAGE_TOKENS;
    if (promptTokens > CONTEXT) {
      throw new LiquidError(400, `the request exceeds the available context size (${promptTokens} > ${CONTEXT} tokens), try increasing it`, 'exceed_context_size_error');
    }
    const { text, truncated } = truncateTokens(simulatedAnswer({ model: LIQUID_MODEL, prompt: last.text, images, context }), req.maxTokens);
    const completionTokens = countTokens(text);
    const promptMs = (promptTokens / PROMPT_RATE) * 1000;
    const predictedMs = (completionTokens / EVAL_RATE) * 1000;
    const pieces = streamPieces(text);
    this.usage.record({ user, service: 'liquidai', model: LIQUID_MODEL, endpoint: 'chat.completions', promptTokens, completionTokens, images: images.length });
    const now = this.clock.now();
    return {
      id: `chatcmpl-${createHash('sha256').update(`${user}\0${now}\0${text}`).digest('base64url').replace(/[-_]/g, '').slice(0, 32)}`,
      created: Math.floor(now / 1000),
      model: req.model,
      text,
      pieces,
      finishReason: truncated ? 'length' : 'stop',
      promptTokens,
      completionTokens,
      timings: {
        prompt_n: promptTokens,
        prompt_ms: round3(promptMs),
        prompt_per_token_ms: round3(promptMs / Math.max(1, promptTokens)),
        prompt_per_second: PROMPT_RATE,
        predicted_n: completionTokens,
        predicted_ms: round3(predictedMs),
        predicted_per_token_ms: round3(predictedMs / Math.max(1, completionTokens)),
        predicted_per_second: EVAL_RATE,
      },
      nsPerPiece: pieces.length ? Math.round((predictedMs * 1e6) / pieces.length) : 0,
    };
  }
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;
