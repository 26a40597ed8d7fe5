import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { TokenService } from '../domain/auth/tokens.ts';
import type { BusyWindows } from '../domain/busy-windows.ts';
import type { ClockControl } from '../domain/clock-control.ts';
import type { EngineStatus } from '../domain/engine-status.ts';
import { SimError } from '../domain/errors.ts';
import type { FileService } from '../domain/files/file-service.ts';
import type { ImageService } from '../domain/images/image-service.ts';
import type { NodeStatusService } from '../domain/nodes/node-status.ts';
import type { PodService } from '../domain/pods/pod-service.ts';
import type { Logger } from '../domain/ports/logger.ts';
import type { VolumeService } from '../domain/volumes/volume-service.ts';
import type { AppEnv } from './env.ts';
import { errorAnswer } from './error-table.ts';
import { PARAMETER_BODY_LIMIT } from './limits.ts';
import { bearerAuth } from './middleware/bearer-auth.ts';
import { busyWindows } from './middleware/busy-windows.ts';
import { RequestLog, requestLog } from './middleware/request-log.ts';
import { requireEngine } from './middleware/require-engine.ts';
import { oneRequestPerUser } from './middleware/user-lock.ts';
import { RefusedBody } from './multipart.ts';
import { answerAndClose } from './node-server.ts';
import { RouteTable } from './route-table.ts';
import { registerAuthRoutes } from './routes/auth.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { registerFileRoutes } from './routes/files.ts';
import { registerImageRoutes } from './routes/images.ts';
import { registerNodeRoutes } from './routes/nodes.ts';
import { registerPodRoutes } from './routes/pods.ts';
import { registerPvcRoutes } from './routes/pvc.ts';
import { registerClockRoutes, registerHealthRoute } from './routes/sim.ts';
import { registerSimExtraRoutes } from './routes/sim-extras.ts';
import { registerServiceRoutes, type ServiceRoutesDeps } from './routes/services.ts';
import { registerOperationRoutes, type OperationRoutesDeps } from './routes/operations.ts';
import { registerSatelliteRoute } from './routes/satellite.ts';
import { registerUiRoutes } from './routes/ui.ts';
import type { SatelliteTimelineService } from '../domain/satellite-timeline.ts';

/** A path of only these characters is the same to new URL() (no dot segments, escapes or backslashes). */
const PLAIN_PATH = /^[A-Za-z0-9_\-/]+$/;

/**
 * The request's path as new URL() gives it (dot segments resolved, percent-escapes kept as sent),
 * with each run of "/" made one. A plain path, as every client sends, is cut from the URL text
 * without parsing it: the parse was a tenth of a status poll's cost.
 */
export function requestPath(req: Request): string {
  const url = req.url;
  const start = url.indexOf('/', url.indexOf(':') + 3);
  if (start >= 0) {
    let end = url.indexOf('?', start);
    if (end < 0) end = url.length;
    const hash = url.indexOf('#', start);
    const raw = url.slice(start, hash >= 0 && hash < end ? hash : end);
    if (PLAIN_PATH.test(raw) && !raw.includes('//')) return raw;
  }
  return new URL(url).pathname.replace(/\/{2,}/g, '/');
}

/** The domain services the API serves, and the settings that shape its answers. */
export interface ApiDeps {
  tokens: TokenService;
  files: FileService;
  volumes: VolumeService;
  images: ImageService;
  pods: PodService;
  nodes: NodeStatusService;
  clockControl: ClockControl;
  /** busy_windows: while one is open, /em/* answers 423 CG2_BUSY. */
  busyWindows: BusyWindows;
  engine: EngineStatus;
  logger: Logger;
  /** The onboard services from the host: /sim/services, its usage, each service's API. */
  services?: ServiceRoutesDeps;
  /** Operations, executions and namespace files under /sim/. */
  operations?: OperationRoutesDeps;
  /** The satellite page's timeline (GET /sim/satellite). */
  satellite?: SatelliteTimelineService;
  /** Where /sim/requests reads each user's recent requests; one is made when not given. */
  requests?: RequestLog;
  settings: {
    version: string;
    /** limits.uplink_max_bytes. */
    uplinkMaxBytes: number;
    /** compat.downlink_base64. */
    downlinkBase64: boolean;
    /** compat.strict: seed endpoints and spec methods only. */
    strict: boolean;
    /** limits.one_request_per_user: a user's second concurrent /em/* request answers 423. */
    oneRequestPerUser: boolean;
  };
}

/**
 * The EM API, plus the simulator's own /sim/*, /auth/, /openapi.json and /docs, as one Hono app.
 * Routes come from the route table, which the OpenAPI document is generated from too.
 */
export function createApi(deps: ApiDeps): { app: Hono<AppEnv>; routes: RouteTable } {
  const { settings } = deps;
  // The guide's client builds BASE_URL + "/em/..." with a BASE_URL ending in "/": route
  // "//em/files/list" as "/em/files/list".
  const app = new Hono<AppEnv>({ getPath: requestPath });

  app.onError((err, c) => {
    if (err instanceof RefusedBody) {
      const { status, body } = errorAnswer(err.error);
      return answerAndClose(c, status, body);
    }
    if (err instanceof SimError) {
      const { status, body, headers } = errorAnswer(err);
      return c.json(body, status, headers);
    }
    deps.logger.error('unhandled error', { method: c.req.method, path: c.req.path, error: (err as Error).stack ?? String(err) });
    return c.json({ error: 'INTERNAL_ERROR', message: 'The simulator hit an internal error; its log has the details' }, 500);
  });

  app.notFound((c) =>
    c.json({ error: 'NOT_FOUND', message: `No endpoint ${c.req.method} ${c.req.path}; the README lists every endpoint` }, 404),
  );

  const limitBody = bodyLimit({
    maxSize: PARAMETER_BODY_LIMIT,
    onError: () => {
      throw new SimError('INVALID_PARAMETER', `Request body is larger than ${PARAMETER_BODY_LIMIT} bytes; only /em/files/uplink takes large bodies`);
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
  app.use('/sim/executions/*', limitForms);
  app.use('/sim/executions', limitForms);
  app.use('/sim/operations/*', limitForms);
  app.use('/sim/operations', limitForms);

  // Authentication first: an unauthenticated request gets the 401 the clients retry on, and
  // the per-user lock needs to know the user.
  const authenticate = bearerAuth(deps.tokens);
  app.use('/em/*', authenticate);
  app.use('/em/*', busyWindows(deps.busyWindows));
  if (settings.oneRequestPerUser) app.use('/em/*', oneRequestPerUser());
  app.use('/em/*', (c, next) => (c.req.path === '/em/files/uplink' ? next() : limitForms(c, next)));
  const routes = new RouteTable(app, { strict: settings.strict, authenticate });
  registerHealthRoute(routes, { version: settings.version });
  registerDocsRoutes(routes, { version: settings.version });
  registerAuthRoutes(routes, deps.tokens);
  registerClockRoutes(routes, { clock: deps.clockControl });
  registerSimExtraRoutes(routes, { pods: deps.pods, engine: deps.engine, requests });
  if (deps.satellite) registerSatelliteRoute(routes, { timeline: deps.satellite });
  registerUiRoutes(routes);
  if (deps.services) registerServiceRoutes(routes, app, authenticate, deps.services);
  if (deps.operations) registerOperationRoutes(routes, deps.operations);
  registerFileRoutes(routes, { files: deps.files, volumes: deps.volumes, uplinkMaxBytes: settings.uplinkMaxBytes, downlinkBase64: settings.downlinkBase64 });
  registerNodeRoutes(routes, { nodes: deps.nodes });
  registerPvcRoutes(routes, { volumes: deps.volumes });
  app.use('/em/pod/*', requireEngine(deps.engine));
  registerImageRoutes(routes, { images: deps.images, volumes: deps.volumes });
  registerPodRoutes(routes, { pods: deps.pods, strict: deps.settings.strict });

  return { app, routes };
}
