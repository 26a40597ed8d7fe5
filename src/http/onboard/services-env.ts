import type { Context } from 'hono';

/*
 * What the onboard services' HTTP apps share: the user a request is from (set by the services
 * router, from the relay it came through or from the token of /sim/services/*), JSON bodies read
 * as the services' own servers read them, and streams paced on the simulated clock.
 */

/** The services apps' environment: the calling user, for metering and per-user state. */
export interface ServicesEnv {
  Bindings: { user: string };
}

/** A JSON body: none, unreadable (with Go's and a generic wording), or its value. */
export type JsonBody = { kind: 'empty' } | { kind: 'invalid'; message: string; goMessage: string } | { kind: 'value'; value: unknown };

/** Reads the body as JSON whatever its Content-Type (Ollama and llama-server do not check it). */
export async function readJsonBody(c: Context<ServicesEnv>): Promise<JsonBody> {
  const raw = await c.req.text();
  if (!raw.trim()) return { kind: 'empty' };
  try {
    return { kind: 'value', value: JSON.parse(raw) };
  } catch (err) {
    const first = raw.trim()[0]!;
    const goMessage = /[[{"\-0-9tfn]/.test(first) ? 'unexpected EOF' : `invalid character '${first}' looking for beginning of value`;
    return { kind: 'invalid', message: (err as Error).message, goMessage };
  }
}

/**
 * Standard base64 as Go's encoding/base64 StdEncoding reads it: the bytes, or the offset of the
 * first illegal byte.
 */
export function decodeBase64Strict(text: string): Uint8Array | number {
  const bad = text.search(/[^A-Za-z0-9+/=]/);
  if (bad !== -1) return bad;
  const pad = text.indexOf('=');
  if (pad !== -1 && !/^={1,2}$/.test(text.slice(pad))) return pad;
  if (text.length % 4 !== 0) return text.length - (text.length % 4);
  return Buffer.from(text, 'base64');
}

/** A response body fed by an async generator of text, one chunk per piece, as it is produced. */
export function paced(lines: AsyncGenerator<string>): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await lines.next();
      if (next.done) controller.close();
      else controller.enqueue(encoder.encode(next.value));
    },
    async cancel() {
      await lines.return(undefined);
    },
  });
}
