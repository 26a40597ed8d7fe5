import type { MiddlewareHandler } from 'hono';
import { SimError } from '../../domain/errors.ts';
import type { AppEnv } from '../env.ts';
import { MeteredResponse } from '../node-server.ts';

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
 * The lock lifts before the client can have the last byte of the response (MeteredResponse's
 * "handed off"), so a client that has read the whole body and sends its next request is never
 * refused by a lock that is about to lift. Without a Node response (app.request in tests) the
 * handler's end is all there is.
 */
export function oneRequestPerUser(): MiddlewareHandler<AppEnv> {
  const busy = new Set<string>();
  return async (c, next) => {
    const user = c.get('user');
    if (busy.has(user)) {
      throw new SimError('CG2_BUSY', 'CG2 is busy: another request of this user is still in progress; send one request at a time');
    }
    busy.add(user);
    try {
      await next();
    } finally {
      const out = c.env?.outgoing;
      if (out instanceof MeteredResponse) out.onceHandedOff(() => busy.delete(user));
      else busy.delete(user);
    }
  };
}
