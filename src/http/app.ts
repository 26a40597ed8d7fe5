import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { SimError } from '../domain/errors.ts';
import type { FileService } from '../domain/files.ts';
import type { TokenService } from '../domain/tokens.ts';
import type { VolumeService } from '../domain/volumes.ts';
import type { Logger } from '../logger.ts';
import type { AppEnv } from './env.ts';
import { STATUS_OF } from './error-table.ts';
import { bearerAuth } from './middleware/bearer-auth.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { registerFileRoutes } from './routes/files.ts';
import { registerImageRoutes, registerPodRoutes, type PodRouteDeps } from './routes/pods.ts';
import { requireEngine, type EngineState } from './middleware/require-engine.ts';
import { RouteTable } from './route-table.ts';
import { registerClockRoutes, registerHealthRoute, type ClockRouteDeps } from './routes/sim.ts';
import { registerNodeRoutes, type NodeRouteDeps } from './routes/nodes.ts';
import { registerPvcRoutes, type PvcRouteDeps } from './routes/pvc.ts';
import { busyWindows } from './middleware/busy-windows.ts';
import { oneRequestPerUser } from './middleware/user-lock.ts';
import { RequestLog, requestLog } from './middleware/request-log.ts';
import { registerSimExtraRoutes } from './routes/sim-extras.ts';
import type { WindowConfig } from '../config/schema.ts';

export interface HttpDeps extends PodRouteDeps, ClockRouteDeps, NodeRouteDeps, PvcRouteDeps {
  clock: ClockRouteDeps['clock'];
  tokens: TokenService;
  files: FileService;
  volumes: VolumeService;
  logger: Logger;
  engine: EngineState;
  uplinkMaxBytes: number;
  downlinkBase64: boolean;
  version: string;
  /** busy_windows: while one is open, /em/* answers 423 CG2_BUSY. */
  busyWindows: WindowConfig[];
  /** limits.one_request_per_user: a user's second concurrent /em/* request answers 423. */
  oneRequestPerUser: boolean;
  /** Where /sim/requests reads each user's recent requests; one is made when not given. */
  requests?: RequestLog;
}

// Parameters of every endpoint but uplink are small; a megabyte is generous.
const FORM_LIMIT = 1 << 20;

export function createHttpApp(deps: HttpDeps): { app: Hono<AppEnv>; routes: RouteTable } {
  // The guide's client builds BASE_URL + "/em/..." with a BASE_URL ending in "/": route
  // "//em/files/list" as "/em/files/list".
  const app = new Hono<AppEnv>({ getPath: (req) => new URL(req.url).pathname.replace(/\/{2,}/g, '/') });

  app.onError((err, c) => {
    if (err instanceof SimError) {
      const body: Record<string, unknown> = { error: err.code, message: err.message };
      if (err.extra.log_tail) body.log_tail = err.extra.log_tail;
      const headers: Record<string, string> = {};
      if (err.extra.retryAfter !== undefined) headers['Retry-After'] = String(Math.max(1, Math.ceil(err.extra.retryAfter)));
      return c.json(body, STATUS_OF[err.code], headers);
    }
    deps.logger.error('unhandled error', { method: c.req.method, path: c.req.path, error: (err as Error).stack ?? String(err) });
    return c.json({ error: 'INTERNAL_ERROR', message: 'The simulator hit an internal error; its log has the details' }, 500);
  });

  app.notFound((c) =>
    c.json({ error: 'NOT_FOUND', message: `No endpoint ${c.req.method} ${c.req.path}; the README lists every endpoint` }, 404),
  );

  const limitBody = bodyLimit({
    maxSize: FORM_LIMIT,
    onError: () => {
      throw new SimError('INVALID_PARAMETER', `Request body is larger than ${FORM_LIMIT} bytes; only /em/files/uplink takes large bodies`);
    },
  });
  // A GET's body is read, and limited, by readParams: asking a GET for its body here would make
  // the Node adapter build a whole fetch Request on every status poll and listing.
  const limitForms: MiddlewareHandler<AppEnv> = (c, next) =>
    c.req.method === 'GET' || c.req.method === 'HEAD' ? next() : limitBody(c, next);

  // First, so that every request is logged, refused ones included.
  const requests = deps.requests ?? new RequestLog();
  app.use('*', requestLog(deps.logger, requests));

  app.use('/auth/*', limitForms);

  // The simulator-only endpoints take the same tokens as /em/* (the route table checks them),
  // but no busy window or lock applies to them.
  app.use('/sim/clock', limitForms);

  // Authentication first: an unauthenticated request gets the 401 the clients retry on, and
  // the per-user lock needs to know the user.
  const authenticate = bearerAuth(deps.tokens);
  app.use('/em/*', authenticate);
  app.use('/em/*', busyWindows(deps.busyWindows, deps.clock));
  if (deps.oneRequestPerUser) app.use('/em/*', oneRequestPerUser());
  app.use('/em/*', async (c, next) => (c.req.path === '/em/files/uplink' ? next() : limitForms(c, next)));
  const routes = new RouteTable(app, { strict: deps.strict, authenticate });
  registerHealthRoute(routes, { version: deps.version });
  registerDocsRoutes(routes, { version: deps.version });
  registerAuthRoutes(routes, deps.tokens);
  registerClockRoutes(routes, deps);
  registerSimExtraRoutes(routes, { pods: deps.pods, engine: deps.engine, requests });
  registerFileRoutes(routes, deps);
  registerNodeRoutes(routes, deps);
  registerPvcRoutes(routes, deps);
  app.use('/em/pod/*', requireEngine(deps.engine));
  registerImageRoutes(routes, deps);
  registerPodRoutes(routes, deps);

  return { app, routes };
}
