import { Hono, type Context } from 'hono';
import type { Clock } from '../../domain/ports/clock.ts';
import { LiquidError, type LiquidAnswer, type LiquidMessage, type LiquidTwin } from '../../domain/onboard/liquid.ts';
import { decodeBase64Strict, paced, readJsonBody, type ServicesEnv } from './services-env.ts';

/*
 * The LiquidAI twin on HTTP, as llama.cpp's llama-server answers: OpenAI's chat.completion (and
 * chat.completion.chunk server-sent events with "stream": true, ending "data: [DONE]"), errors as
 * {"error": {code, message, type}}, GET /health {"status": "ok"}, /v1/models.
 */

function fail(status: number, message: string, type?: string): never {
  throw new LiquidError(status, message, type);
}

/** A message's content: a string, or parts ({type: "text"} and {type: "image_url"} with a data: URL). */
function decodeMessage(raw: unknown, index: number): LiquidMessage {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(400, `messages[${index}] must be an object`);
  const m = raw as Record<string, unknown>;
  const role = typeof m['role'] === 'string' ? m['role'] : fail(400, `messages[${index}]: 'role' must be a string`);
  const content = m['content'];
  if (typeof content === 'string' || content === undefined || content === null) return { role, text: content ?? '', images: [] };
  if (!Array.isArray(content)) fail(400, `messages[${index}]: 'content' must be a string or an array of parts`);
  const texts: string[] = [];
  const images: Uint8Array[] = [];
  for (const part of content as unknown[]) {
    const p = (typeof part === 'object' && part !== null ? part : {}) as Record<string, unknown>;
    if (p['type'] === 'text' && typeof p['text'] === 'string') texts.push(p['text']);
    else if (p['type'] === 'image_url') {
      const url = (p['image_url'] as Record<string, unknown> | undefined)?.['url'];
      if (typeof url !== 'string') fail(400, "image_url part without 'image_url.url'");
      const data = /^data:([^;,]*)(;[^,]*)?;base64,(.*)$/s.exec(url);
      if (!data) fail(400, `Failed to load image: only base64 data: URLs can be read onboard, where nothing reaches the internet (got ${url.slice(0, 40)})`);
      const bytes = decodeBase64Strict(data[3]!.replace(/\s/g, ''));
      if (typeof bytes === 'number') fail(400, 'Failed to decode image: invalid base64 in the data: URL');
      images.push(bytes);
    } else fail(400, `unsupported content part type: ${JSON.stringify(p['type'] ?? null)}`);
  }
  return { role, text: texts.join('\n'), images };
}

/** The app a relay's requests for liquid-3b.dphi-public reach. */
export function liquidApp(liquid: LiquidTwin, clock: Clock, pace: boolean): Hono<ServicesEnv> {
  const app = new Hono<ServicesEnv>();
  app.onError((err, c) => {
    if (err instanceof LiquidError) return c.json({ error: { code: err.status, message: err.message, type: err.type } }, err.status as 400);
    throw err;
  });
  app.notFound((c) => c.json({ error: { code: 404, message: 'File Not Found', type: 'not_found_error' } }, 404));

  app.get('/health', (c) => c.json({ status: 'ok' }));
  app.get('/v1/health', (c) => c.json({ status: 'ok' }));
  app.get('/v1/models', (c) => c.json(liquid.models()));
  app.get('/models', (c) => c.json(liquid.models()));

  const completions = async (c: Context<ServicesEnv>) => {
    const body = await readJsonBody(c);
    if (body.kind === 'empty') fail(400, 'empty request body');
    if (body.kind === 'invalid') fail(400, `JSON parse error: ${body.message}`);
    const req = body.value as Record<string, unknown>;
    if (typeof req !== 'object' || req === null || Array.isArray(req)) fail(400, 'the request body must be a JSON object');
    if (!Array.isArray(req['messages'])) fail(400, "'messages' is required and must be an array");
    if (!(req['messages'] as unknown[]).length) fail(400, "'messages' must not be empty");
    const messages = (req['messages'] as unknown[]).map(decodeMessage);
    const max = req['max_tokens'] ?? req['max_completion_tokens'] ?? req['n_predict'];
    if (max !== undefined && max !== null && !(typeof max === 'number' && Number.isInteger(max))) fail(400, "'max_tokens' must be an integer");
    const answer = liquid.complete(c.env.user, {
      model: typeof req['model'] === 'string' ? req['model'] : 'gpt-3.5-turbo',
      messages,
      ...(typeof max === 'number' && max >= 0 ? { maxTokens: max } : {}),
    });
    if (req['stream'] === true) return events(c, clock, pace, answer);
    if (pace) await clock.sleep(answer.timings['prompt_ms']! + answer.timings['predicted_ms']!);
    return c.json({
      choices: [{ finish_reason: answer.finishReason, index: 0, message: { role: 'assistant', content: answer.text } }],
      created: answer.created,
      model: answer.model,
      system_fingerprint: SYSTEM_FINGERPRINT,
      object: 'chat.completion',
      usage: usage(answer),
      id: answer.id,
      timings: answer.timings,
    });
  };
  app.post('/v1/chat/completions', completions);
  app.post('/chat/completions', completions);
  return app;
}

/** What llama-server reports as its build; em-sim's says it is em-sim. */
const SYSTEM_FINGERPRINT = 'b0000-em-sim';

function usage(a: LiquidAnswer): { completion_tokens: number; prompt_tokens: number; total_tokens: number } {
  return { completion_tokens: a.completionTokens, prompt_tokens: a.promptTokens, total_tokens: a.promptTokens + a.completionTokens };
}

function events(c: Context<ServicesEnv>, clock: Clock, pace: boolean, a: LiquidAnswer): Response {
  const chunk = (delta: Record<string, string>, finish: string | null, extra: Record<string, unknown> = {}) =>
    `data: ${JSON.stringify({ choices: [{ finish_reason: finish, index: 0, delta }], created: a.created, id: a.id, model: a.model, system_fingerprint: SYSTEM_FINGERPRINT, object: 'chat.completion.chunk', ...extra })}\n\n`;
  const lines = async function* () {
    if (pace) await clock.sleep(a.timings['prompt_ms']!);
    yield chunk({ role: 'assistant', content: '' }, null);
    for (const piece of a.pieces) {
      if (pace) await clock.sleep(a.nsPerPiece / 1e6);
      yield chunk({ content: piece }, null);
    }
    yield chunk({}, a.finishReason, { usage: usage(a), timings: a.timings });
    yield 'data: [DONE]\n\n';
  };
  return c.body(paced(lines()), 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
}
