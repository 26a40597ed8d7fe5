import type { IncomingMessage, ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../logger.ts';
import type { AppEnv } from '../env.ts';

/** One request as /sim/requests shows it. */
export interface RequestRecord {
  /** When the request arrived, ISO 8601 UTC. */
  time: string;
  method: string;
  path: string;
  /** The query string without "?", when there was one. */
  query?: string;
  status: number;
  duration_ms: number;
  /** Body bytes received: the declared Content-Length, else what was read of a chunked body. */
  bytes_in: number;
  /** Body bytes sent (headers not counted). */
  bytes_out: number;
  /** Set when the client went away before the response was complete. */
  aborted?: true;
}

export const REQUESTS_KEPT_PER_USER = 1000;

/**
 * The last requests of each user, in memory only: nothing touches SQLite on the hot path.
 * Tokens only verify for configured users, so memory is bounded by users × `perUser`.
 */
export class RequestLog {
  private readonly rings = new Map<string, { items: RequestRecord[]; next: number }>();

  constructor(readonly perUser = REQUESTS_KEPT_PER_USER) {}

  record(user: string, entry: RequestRecord): void {
    let ring = this.rings.get(user);
    if (!ring) this.rings.set(user, (ring = { items: [], next: 0 }));
    if (ring.items.length < this.perUser) ring.items.push(entry);
    else ring.items[ring.next] = entry;
    ring.next = (ring.next + 1) % this.perUser;
  }

  /** The user's requests, newest first. */
  recent(user: string, limit = this.perUser): RequestRecord[] {
    const ring = this.rings.get(user);
    if (!ring) return [];
    const { items } = ring;
    const out: RequestRecord[] = [];
    const count = Math.min(limit, items.length);
    // `next` is where the oldest entry sits once the ring is full, one past the newest always.
    for (let i = 1; i <= count; i++) out.push(items[(ring.next - i + items.length) % items.length]!);
    return out;
  }
}

/**
 * One structured log line per request (user when authenticated, method, path, status, duration,
 * body bytes in and out) at level info, and the request kept in `requests` for its user.
 *
 * Some responses (downlink) are streamed straight to the Node response, past Hono; so the status
 * and byte counts are read from the Node response itself, when it finishes. Without a Node
 * response (app.request() in tests), they are read from the Response Hono produced.
 */
export function requestLog(logger: Logger, requests: RequestLog): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const time = new Date().toISOString();
    const url = c.req.url;
    const q = url.indexOf('?');
    const query = q >= 0 && q < url.length - 1 ? url.slice(q + 1) : undefined;
    const out = c.env?.outgoing as ServerResponse | undefined;
    const incoming = c.env?.incoming as IncomingMessage | undefined;

    const declared = c.req.header('content-length');
    let bytesIn = declared !== undefined ? Number(declared) || 0 : 0;
    if (incoming && declared === undefined && c.req.header('transfer-encoding')) {
      // Counted as the parser hands the body over: reading it stays entirely up to the handler.
      const push = incoming.push;
      incoming.push = function (chunk: unknown, encoding?: BufferEncoding) {
        if (chunk) bytesIn += typeof chunk === 'string' ? Buffer.byteLength(chunk, encoding) : (chunk as Uint8Array).byteLength;
        return push.call(this, chunk, encoding);
      };
    }

    const finish = (status: number, bytesOut: number, aborted: boolean) => {
      const user = c.get('user') as string | undefined;
      const entry: RequestRecord = {
        time,
        method: c.req.method,
        path: c.req.path,
        ...(query !== undefined ? { query } : {}),
        status,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
        bytes_in: bytesIn,
        bytes_out: bytesOut,
        ...(aborted ? { aborted: true as const } : {}),
      };
      if (user) requests.record(user, entry);
      if (logger.enabled('info')) {
        const { time: _arrived, ...fields } = entry;
        logger.info('request', user ? { user, ...fields } : fields);
      }
    };

    if (!out) {
      await next();
      const length = Number(c.res.headers.get('content-length'));
      finish(c.res.status, Number.isFinite(length) ? length : 0, false);
      return;
    }

    let bytesOut = 0;
    const count = (chunk: unknown, encoding: unknown) => {
      if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
      bytesOut += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : (chunk as Uint8Array).byteLength;
    };
    const write = out.write;
    const end = out.end;
    out.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      count(chunk, rest[0]);
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    out.end = function (this: ServerResponse, chunk?: unknown, ...rest: unknown[]) {
      count(chunk, rest[0]);
      return (end as (...a: unknown[]) => ServerResponse).call(this, chunk, ...rest);
    } as ServerResponse['end'];

    let logged = false;
    out.once('finish', () => {
      logged = true;
      finish(out.statusCode, bytesOut, false);
    });
    out.once('close', () => {
      if (!logged) finish(out.headersSent ? out.statusCode : 499, bytesOut, true);
    });
    await next();
  };
}
