import type { ServerResponse } from 'node:http';
import type { MiddlewareHandler } from 'hono';
import { SimError } from '../../domain/errors.ts';
import type { AppEnv } from '../env.ts';

/**
 * "423 LOCKED prevents concurrent requests": one request per user at a time.
 *
 * Which requests count. Mounted on /em/* after bearerAuth and busyWindows, so a request holds
 * its user's lock when it carries a valid access token, is not refused by a busy window, and
 * is not itself refused here; every such request counts, whatever its method or path (an
 * unknown /em/ path or a request that fails validation included). It holds the lock from the
 * moment its token is accepted until BOTH its handler has finished AND its response has been
 * handed to the network in full (or the connection closed): a downlink holds it while its body
 * streams, an uplink while its body arrives, a build while the engine builds. /auth/ and
 * /sim/* requests never take or meet the lock; 401 and 423 answers never hold it; other users
 * are never affected. No Retry-After: nobody knows when the other request ends.
 *
 * The lock lifts before the client can have the last byte of the response (see
 * releaseWhenSent), so a client that has read the whole body and sends its next request is
 * never refused by a lock that is about to lift.
 */
export function oneRequestPerUser(): MiddlewareHandler<AppEnv> {
  const busy = new Set<string>();
  return async (c, next) => {
    const user = c.get('user');
    if (busy.has(user)) {
      throw new SimError('CG2_BUSY', 'CG2 is busy: another request of this user is still in progress; send one request at a time');
    }
    busy.add(user);
    const release = releaseWhenSent(c.env?.outgoing as ServerResponse | undefined, () => busy.delete(user));
    try {
      await next();
    } finally {
      release();
    }
  };
}

/**
 * Returns "the handler is done"; `free` runs once that has been called and the response is
 * out. "Out" is decided before the client can see the last byte: when the last byte the
 * Content-Length announces is handed to write(), or when end() is called, whichever comes
 * first (or on close, for a connection that dies). Waiting for Node's 'finish'/'close' events
 * instead races with a fast client whose next request arrives on another connection before
 * those events fire. Without a Node response (app.request in tests) the handler's end is all
 * there is.
 */
function releaseWhenSent(outgoing: ServerResponse | undefined, free: () => void): () => void {
  let handled = false;
  let sent = !outgoing || outgoing.writableEnded;
  let freed = false;
  const settle = () => {
    if (handled && sent && !freed) {
      freed = true;
      free();
    }
  };
  const markSent = () => {
    sent = true;
    settle();
  };
  if (!sent) {
    const out = outgoing!;
    let written = 0;
    const write = out.write;
    const end = out.end;
    out.write = function (this: ServerResponse, chunk: unknown, ...rest: unknown[]) {
      written += byteLength(chunk);
      const length = Number(out.getHeader('content-length'));
      // Before handing the bytes on: once they are written the client may already have them.
      if (Number.isFinite(length) && written >= length) markSent();
      return (write as (...a: unknown[]) => boolean).call(this, chunk, ...rest);
    } as ServerResponse['write'];
    out.end = function (this: ServerResponse, ...args: unknown[]) {
      markSent();
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args);
    } as ServerResponse['end'];
    out.once('close', markSent);
  }
  return () => {
    handled = true;
    settle();
  };
}

function byteLength(chunk: unknown): number {
  if (typeof chunk === 'string') return Buffer.byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  return 0;
}
