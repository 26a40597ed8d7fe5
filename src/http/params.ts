import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { z } from 'zod';
import { SimError } from '../domain/errors.ts';
import type { AppEnv } from './env.ts';
import { PARAMETER_BODY_LIMIT } from './limits.ts';

/*
 * Clients of every age talk to the EM: form data, url-encoded bodies, JSON, and GET query
 * strings. They all end up here as one flat record; "" and null mean "not given".
 */

export type RawParams = Record<string, unknown>;

/** Every parameter of the request: the query string, then the body (form, url-encoded or JSON), unset ones dropped. */
export async function readParams(c: Context<AppEnv>): Promise<RawParams> {
  // No prototype: a parameter named __proto__ or toString is a parameter like any other.
  const params: RawParams = Object.create(null) as RawParams;
  // URLSearchParams over the query text: Hono's queries() decodes each key again per lookup.
  const url = c.req.url;
  const q = url.indexOf('?');
  if (q >= 0) {
    for (const [key, value] of new URLSearchParams(url.slice(q + 1))) {
      if (key === '') continue;
      const seen = Object.hasOwn(params, key) ? params[key] : undefined;
      params[key] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen as string, value];
    }
  }
  const body = c.req.method === 'GET' || c.req.method === 'HEAD' ? await getBody(c) : c.req;
  if (body) Object.assign(params, await readBody(body, c.req.header('content-type') ?? ''));
  return withoutUnset(params);
}

/** Drops parameters that are "", null or an empty list: clients send those for "not given". */
export function withoutUnset<T extends RawParams>(params: T): T {
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === '' || (Array.isArray(value) && value.length === 0)) delete params[key];
  }
  return params;
}

/** Whether a request's headers announce a body (a GET's too: Python's requests sends one with data=). */
export function announcesBody(incoming: IncomingMessage): boolean {
  return Boolean(incoming.headers['content-length'] || incoming.headers['transfer-encoding']);
}

/**
 * Python's requests sends a body with GET when given data=; the Node adapter hands Hono no body
 * for a GET, so it is read here from the connection and wrapped as a request of its own.
 */
async function getBody(c: Context<AppEnv>): Promise<Request | null> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (!incoming || !announcesBody(incoming)) return null;
  const body = await readUpTo(incoming, PARAMETER_BODY_LIMIT);
  if (!body) {
    throw new SimError('INVALID_PARAMETER', `Request body is larger than ${PARAMETER_BODY_LIMIT} bytes; only /em/files/uplink takes large bodies`);
  }
  return new Request(c.req.url, { method: 'POST', headers: c.req.raw.headers, body: new Uint8Array(body) });
}

/**
 * The whole body, or null once it passes `max`. The rest is then dropped as it arrives rather
 * than the request destroyed: that would take the socket, and the 400, with it.
 */
function readUpTo(incoming: IncomingMessage, max: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= max) {
        chunks.push(chunk);
        return;
      }
      incoming.off('data', onData);
      incoming.resume();
      resolve(null);
    };
    incoming.on('data', onData);
    incoming.once('end', () => resolve(Buffer.concat(chunks)));
    incoming.once('error', reject);
  });
}

/** A body to read once: Hono's request (which caches what it read), or a GET's body. */
type Body = Pick<Request, 'text' | 'formData'>;

async function readBody(request: Body, contentType: string): Promise<RawParams> {
  const type = contentType.toLowerCase();
  if (type.startsWith('application/json')) {
    const text = await request.text();
    if (!text.trim()) return {};
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new SimError('INVALID_PARAMETER', 'The JSON body could not be parsed; send a JSON object');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new SimError('INVALID_PARAMETER', 'The JSON body must be an object of parameters');
    }
    return body as RawParams;
  }
  if (type.startsWith('multipart/form-data') || type.startsWith('application/x-www-form-urlencoded')) {
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      throw new SimError('INVALID_PARAMETER', 'The form body could not be parsed');
    }
    const out: RawParams = {};
    for (const key of new Set(form.keys())) {
      const strings = form.getAll(key).filter((v): v is string => typeof v === 'string');
      if (strings.length) out[key] = strings.length === 1 ? strings[0] : strings;
    }
    return out;
  }
  const text = await request.text();
  if (!text.length) return {};
  throw new SimError(
    'UNSUPPORTED_MEDIA_TYPE',
    `Content-Type "${type || '(none)'}" is not understood; send multipart/form-data, application/x-www-form-urlencoded or application/json`,
  );
}

/** Validates raw parameters against a route's schema; errors name the parameter. */
export function parseParams<S extends z.ZodType>(schema: S, raw: RawParams): z.infer<S> {
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const name = issue.path.join('.') || 'parameters';
  if (issue.code === 'invalid_type' && raw[issue.path[0] as string] === undefined) {
    throw new SimError('MISSING_PARAMETER', `Parameter "${name}" is required`);
  }
  throw new SimError('INVALID_PARAMETER', `Parameter "${name}": ${issue.message}`);
}

// Building blocks for route schemas. A repeated single-valued field keeps its last value, as
// Django's QueryDict.get does.
const last = (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v);

/** A string parameter (numbers and booleans of JSON bodies are taken as their text). */
export const text = () =>
  z.preprocess((v) => {
    const x = last(v);
    return typeof x === 'number' || typeof x === 'boolean' ? String(x) : x;
  }, z.string({ error: 'expected a string' }));

/** A whole-number parameter, from a number or its decimal text. */
export const integer = (min?: number, max?: number) => {
  let n = z.number({ error: 'expected a whole number' }).int('expected a whole number');
  const range = min !== undefined && max !== undefined ? `from ${min} to ${max}` : min !== undefined ? `${min} or more` : `at most ${max}`;
  if (min !== undefined) n = n.min(min, `expected a whole number ${range}`);
  if (max !== undefined) n = n.max(max, `expected a whole number ${range}`);
  return z.preprocess((v) => {
    const x = last(v);
    return typeof x === 'string' && /^\s*-?\d+\s*$/.test(x) ? Number(x) : x;
  }, n);
};

const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off']);

/** Python clients send True/False as "True"/"False" in form data. */
export const boolean = () =>
  z.preprocess(
    (v) => {
      const x = last(v);
      if (typeof x === 'string') {
        const lower = x.trim().toLowerCase();
        if (TRUE.has(lower)) return true;
        if (FALSE.has(lower)) return false;
      }
      return x;
    },
    z.boolean({ error: 'expected true or false' }),
  );

/** A list arrives as a JSON array, a JSON string of one, or repeated form fields. */
export const list = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => {
    if (typeof v === 'string') {
      const trimmed = v.trim();
      if (trimmed.startsWith('[')) {
        try {
          return JSON.parse(trimmed);
        } catch {
          return v;
        }
      }
      return [v];
    }
    return v;
  }, z.array(item, { error: 'expected a list' }));

/** An object arrives as JSON, or as a JSON string of one in form data. */
export const record = () =>
  z.preprocess(
    (v) => {
      const x = last(v);
      if (typeof x === 'string' && x.trim().startsWith('{')) {
        try {
          return JSON.parse(x);
        } catch {
          return x;
        }
      }
      return x;
    },
    z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]), { error: 'expected an object of names to values' }),
  );
