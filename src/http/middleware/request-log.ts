import type { MiddlewareHandler } from 'hono';
import type { Logger } from '../../domain/ports/logger.ts';
import type { AppEnv } from '../env.ts';
import { MeteredRequest, MeteredResponse } from '../node-server.ts';

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

/** How many requests /sim/requests keeps per user. */
export const REQUESTS_KEPT_PER_USER = 1000;

/** The header with which a client says a request is a poll, not an action (the dashboard does). */
export const POLL_HEADER = 'x-em-sim-poll';

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
 * and byte counts are read from the Node response itself (node-server.ts's MeteredResponse), when
 * it finishes. Without one (app.request() in tests), they are read from the Response Hono produced.
 */
export function requestLog(logger: Logger, requests: RequestLog): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const started = performance.now();
    const time = new Date().toISOString();
    const url = c.req.url;
    const q = url.indexOf('?');
    const query = q >= 0 && q < url.length - 1 ? url.slice(q + 1) : undefined;
    const out = c.env?.outgoing;
    const incoming = c.env?.incoming;
    const declared = c.req.header('content-length');
    // A chunked body has no Content-Length: the request counts what the parser hands over.
    const bytesIn = () => (declared !== undefined ? Number(declared) || 0 : incoming instanceof MeteredRequest ? incoming.bodyBytes : 0);

    const finish = (status: number, bytesOut: number, aborted: boolean) => {
      const user = c.get('user') as string | undefined;
      // Unset fields are undefined rather than spread in: JSON leaves them out alike.
      const entry: RequestRecord = {
        time,
        method: c.req.method,
        path: c.req.path,
        query,
        status,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
        bytes_in: bytesIn(),
        bytes_out: bytesOut,
        aborted: aborted || undefined,
      };
      // A request marked as a poll (the dashboard following a page: X-EM-Sim-Poll: 1) is not the
      // user's own doing: it is logged at debug and kept out of /sim/requests, where it would push
      // out what the user's scripts sent. So is a successful health check (a probe's, every 5 s).
      const poll = c.req.header(POLL_HEADER) === '1';
      if (user && !poll) requests.record(user, entry);
      const level = poll || (entry.path === '/sim/health' && status === 200) ? 'debug' : 'info';
      if (logger.enabled(level)) {
        const { time: _arrived, ...fields } = entry;
        logger[level]('request', user ? { user, ...fields } : fields);
      }
    };

    if (!(out instanceof MeteredResponse)) {
      await next();
      const length = Number(c.res.headers.get('content-length'));
      finish(c.res.status, Number.isFinite(length) ? length : 0, false);
      return;
    }

    out.onceDone((aborted) => finish(aborted && !out.headersSent ? 499 : out.statusCode, out.bodyBytes, aborted));
    await next();
  };
}
