import { Hono, type Context } from 'hono';
import type { Clock } from '../../domain/ports/clock.ts';
import { OllamaError, type ChatMessage, type ModelAnswer, type OllamaOptions, type OllamaTwin } from '../../domain/onboard/ollama.ts';
import { isoNanos } from '../../domain/time/iso-time.ts';
import { decodeBase64Strict, paced, readJsonBody, type ServicesEnv } from './services-env.ts';

/*
 * The Ollama twin on HTTP, as Ollama's server answers (server/routes.go, gin): {"error": ...}
 * bodies, "404 page not found" for any other path, NDJSON streams (application/x-ndjson) unless
 * "stream": false, HEAD where Ollama has it. /api/show is POST upstream; the provider's page
 * says GET, and a GET gets what it gets from Ollama: 404.
 */

/** Ollama's decoding of a request body: Go's errors for JSON of the wrong shape. */
function field(body: Record<string, unknown>, name: string, kind: 'string' | 'boolean' | 'object' | 'array', struct: string): unknown {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  const ok = kind === 'array' ? Array.isArray(value) : kind === 'object' ? typeof value === 'object' && !Array.isArray(value) : typeof value === kind;
  if (!ok) {
    const got = Array.isArray(value) ? 'array' : typeof value === 'object' ? 'object' : typeof value;
    throw new OllamaError(400, `json: cannot unmarshal ${got} into Go struct field ${struct}.${name} of type ${goType(kind)}`);
  }
  return value;
}

function goType(kind: string): string {
  return { string: 'string', boolean: 'bool', object: 'map[string]interface {}', array: '[]' }[kind] ?? kind;
}

/** keep_alive as Ollama reads it: seconds as a number, or a Go duration ("5m", "1h30m", "-1"). */
function keepAlive(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (/^-?\d+(\.\d+)?$/.test(value)) return Number(value);
    const units: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
    const sign = value.startsWith('-') ? -1 : 1;
    const text = value.replace(/^[-+]/, '');
    const parts = [...text.matchAll(/(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/g)];
    if (parts.length && parts.map((p) => p[0]).join('') === text) {
      return sign * parts.reduce((sum, p) => sum + Number(p[1]) * units[p[2]!]!, 0);
    }
    throw new OllamaError(400, `time: invalid duration "${value}"`);
  }
  throw new OllamaError(400, 'invalid keep_alive value');
}

function images(value: unknown, struct: string): Uint8Array[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw new OllamaError(400, `json: cannot unmarshal ${typeof value} into Go struct field ${struct}.images of type []api.ImageData`);
  return value.map((item) => {
    if (typeof item !== 'string') throw new OllamaError(400, `json: cannot unmarshal ${typeof item} into Go struct field ${struct}.images of type api.ImageData`);
    const bytes = decodeBase64Strict(item);
    if (typeof bytes === 'number') throw new OllamaError(400, `illegal base64 data at input byte ${bytes}`);
    return bytes;
  });
}

function options(body: Record<string, unknown>, struct: string): OllamaOptions | undefined {
  const opts = field(body, 'options', 'object', struct) as Record<string, unknown> | undefined;
  if (!opts) return undefined;
  const out: OllamaOptions = {};
  for (const key of ['num_predict', 'num_ctx'] as const) {
    const value = opts[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw new OllamaError(400, `option "${key}" must be of type integer`);
    out[key] = value;
  }
  return out;
}

/** The app a relay's requests for ollama-dphi.dphi-public reach. */
export function ollamaApp(ollama: OllamaTwin, clock: Clock, pace: boolean): Hono<ServicesEnv> {
  const app = new Hono<ServicesEnv>();
  app.onError((err, c) => {
    if (err instanceof OllamaError) return c.json({ error: err.message }, err.status as 400);
    throw err;
  });
  app.notFound((c) => c.text('404 page not found', 404));

  app.on(['GET', 'HEAD'], '/', (c) => c.text('Ollama is running'));
  app.on(['GET', 'HEAD'], '/api/version', (c) => c.json({ version: ollama.version }));
  app.on(['GET', 'HEAD'], '/api/tags', (c) => c.json(ollama.tags()));
  app.get('/api/ps', (c) => c.json(ollama.ps(c.env.user)));

  app.post('/api/show', async (c) => {
    const body = await ollamaBody(c);
    const model = (field(body, 'model', 'string', 'ShowRequest') as string | undefined) || (field(body, 'name', 'string', 'ShowRequest') as string | undefined);
    return c.json(ollama.show(model));
  });

  app.post('/api/generate', async (c) => {
    const body = await ollamaBody(c);
    const s = 'GenerateRequest';
    // The whole request is read before anything is answered (or metered).
    const stream = field(body, 'stream', 'boolean', s) as boolean | undefined;
    const answer = ollama.generate(c.env.user, {
      model: (field(body, 'model', 'string', s) as string | undefined) ?? '',
      prompt: (field(body, 'prompt', 'string', s) as string | undefined) ?? '',
      ...optional('system', field(body, 'system', 'string', s) as string | undefined),
      images: images(body['images'], s),
      ...optional('think', field(body, 'think', 'boolean', s) as boolean | undefined),
      ...optional('options', options(body, s)),
      ...optional('keepAliveSeconds', keepAlive(body['keep_alive'])),
    });
    const head = (at: number) => ({ model: answer.model, created_at: isoNanos(at) });
    const final = (at: number, text: string) => ({
      ...head(at),
      response: text,
      ...(answer.thinking && stream === false ? { thinking: answer.thinking } : {}),
      done: true,
      done_reason: answer.doneReason,
      ...(answer.doneReason === 'stop' || answer.doneReason === 'length' ? { context: contextTokens(answer) } : {}),
      ...timings(answer),
    });
    if (stream === false) return respondWhole(c, clock, pace, answer, () => final(clock.now(), answer.text));
    return ndjson(c, clock, pace, answer, (piece, at) => ({ ...head(at), response: piece, done: false }), (at) => final(at, ''), (thinking, at) => ({ ...head(at), response: '', thinking, done: false }));
  });

  app.post('/api/chat', async (c) => {
    const body = await ollamaBody(c);
    const s = 'ChatRequest';
    const stream = field(body, 'stream', 'boolean', s) as boolean | undefined;
    const rawMessages = (field(body, 'messages', 'array', s) as unknown[] | undefined) ?? [];
    const messages: ChatMessage[] = rawMessages.map((m) => {
      if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new OllamaError(400, `json: cannot unmarshal ${typeof m} into Go struct field ChatRequest.messages of type api.Message`);
      const msg = m as Record<string, unknown>;
      return {
        role: (field(msg, 'role', 'string', 'ChatRequest.messages') as string | undefined) ?? '',
        content: (field(msg, 'content', 'string', 'ChatRequest.messages') as string | undefined) ?? '',
        images: images(msg['images'], 'ChatRequest.messages'),
      };
    });
    const answer = ollama.chat(c.env.user, {
      model: (field(body, 'model', 'string', s) as string | undefined) ?? '',
      messages,
      ...optional('think', field(body, 'think', 'boolean', s) as boolean | undefined),
      ...optional('options', options(body, s)),
      ...optional('keepAliveSeconds', keepAlive(body['keep_alive'])),
    });
    const head = (at: number) => ({ model: answer.model, created_at: isoNanos(at) });
    const message = (content: string, thinking?: string) => ({ role: 'assistant', content, ...(thinking ? { thinking } : {}) });
    const final = (at: number, content: string) => ({
      ...head(at),
      message: message(content, stream === false ? answer.thinking : undefined),
      done_reason: answer.doneReason,
      done: true,
      ...timings(answer),
    });
    if (stream === false) return respondWhole(c, clock, pace, answer, () => final(clock.now(), answer.text));
    return ndjson(c, clock, pace, answer, (piece, at) => ({ ...head(at), message: message(piece), done: false }), (at) => final(at, ''), (thinking, at) => ({ ...head(at), message: message('', thinking), done: false }));
  });

  app.post('/api/embed', async (c) => {
    const body = await ollamaBody(c);
    const input = body['input'];
    let inputs: string[];
    if (input === undefined || input === null) inputs = [];
    else if (typeof input === 'string') inputs = input ? [input] : [];
    else if (Array.isArray(input) && input.every((i) => typeof i === 'string')) inputs = input as string[];
    else throw new OllamaError(400, 'invalid input type');
    const model = (field(body, 'model', 'string', 'EmbedRequest') as string | undefined) ?? '';
    return c.json(ollama.embed(c.env.user, model, inputs, keepAlive(body['keep_alive'])));
  });

  app.post('/api/embeddings', async (c) => {
    const body = await ollamaBody(c);
    const model = (field(body, 'model', 'string', 'EmbeddingRequest') as string | undefined) ?? '';
    if (!model) throw new OllamaError(400, 'model is required');
    const prompt = (field(body, 'prompt', 'string', 'EmbeddingRequest') as string | undefined) ?? '';
    const result = ollama.embed(c.env.user, model, prompt ? [prompt] : [], keepAlive(body['keep_alive']));
    return c.json({ embedding: result.embeddings[0] ?? [] });
  });
  return app;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

/** The request's JSON object, or Ollama's 400 for none or a broken one. */
async function ollamaBody(c: Context<ServicesEnv>): Promise<Record<string, unknown>> {
  const body = await readJsonBody(c);
  if (body.kind === 'empty') throw new OllamaError(400, 'missing request body');
  if (body.kind === 'invalid') throw new OllamaError(400, body.goMessage);
  if (typeof body.value !== 'object' || body.value === null || Array.isArray(body.value)) {
    throw new OllamaError(400, `json: cannot unmarshal ${Array.isArray(body.value) ? 'array' : typeof body.value} into Go value of type api.Request`);
  }
  return body.value as Record<string, unknown>;
}

function timings(a: ModelAnswer): Record<string, number> {
  return {
    total_duration: a.durations.total,
    load_duration: a.durations.load,
    ...(a.promptTokens ? { prompt_eval_count: a.promptTokens, prompt_eval_duration: a.durations.promptEval } : {}),
    ...(a.evalTokens ? { eval_count: a.evalTokens, eval_duration: a.durations.eval } : {}),
  };
}

/** Token ids of the conversation (Ollama's deprecated `context`): derived, deterministic. */
function contextTokens(a: ModelAnswer): number[] {
  const out: number[] = [];
  const n = a.promptTokens + a.evalTokens;
  let x = a.text.length * 2654435761 + a.promptTokens;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) % 2147483648;
    out.push(x % 151936);
  }
  return out;
}

async function respondWhole(c: Context<ServicesEnv>, clock: Clock, pace: boolean, a: ModelAnswer, body: () => unknown): Promise<Response> {
  if (pace) await clock.sleep(a.durations.total / 1e6);
  return c.json(body());
}

/** Streams pieces as NDJSON, at the model's speed on the simulated clock when paced. */
function ndjson(
  c: Context<ServicesEnv>,
  clock: Clock,
  pace: boolean,
  a: ModelAnswer,
  chunk: (piece: string, at: number) => unknown,
  final: (at: number) => unknown,
  thinkingChunk: (piece: string, at: number) => unknown,
): Response {
  const lines = async function* () {
    if (pace) await clock.sleep((a.durations.load + a.durations.promptEval) / 1e6);
    if (a.thinking) for (const piece of a.thinking.match(/\s*\S+/g) ?? []) yield `${JSON.stringify(thinkingChunk(piece, clock.now()))}\n`;
    for (const piece of a.pieces) {
      if (pace) await clock.sleep(a.nsPerPiece / 1e6);
      yield `${JSON.stringify(chunk(piece, clock.now()))}\n`;
    }
    yield `${JSON.stringify(final(clock.now()))}\n`;
  };
  return c.body(paced(lines()), 200, { 'content-type': 'application/x-ndjson' });
}
