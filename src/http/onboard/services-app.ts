import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import type { HttpBindings } from '@hono/node-server';
import { serviceForHost, type OnboardService } from '../../domain/onboard/onboard-access.ts';
import type { Logger } from '../../domain/ports/logger.ts';
import type { ServicesEnv } from './services-env.ts';

/** The largest body a service reads (an Ollama request with a few images in base64). */
export const SERVICE_BODY_LIMIT = 64 * 1024 * 1024;

/** Each enabled service's app. */
export type ServiceApps = Partial<Record<OnboardService, Hono<ServicesEnv>>>;

/**
 * The app the relays forward to: the Host header says which service (as a cluster's Service
 * would route), the relay's address says which user's pod is calling. A request from any other
 * address is refused: only relays reach this listener.
 */
export function servicesRouter(apps: ServiceApps, userAt: (address: string | undefined) => string | undefined, logger: Logger): Hono<{ Bindings: HttpBindings }> {
  const app = new Hono<{ Bindings: HttpBindings }>();
  app.use('*', bodyLimit({ maxSize: SERVICE_BODY_LIMIT, onError: (c) => c.text('request body too large', 413) }));
  app.onError((err, c) => {
    logger.error('onboard service error', { host: c.req.header('host'), path: c.req.path, error: (err as Error).stack ?? String(err) });
    return c.text('internal error', 500);
  });
  app.all('*', (c) => {
    const user = userAt(c.env.incoming.socket.remoteAddress);
    if (!user) return c.text('Forbidden', 403);
    const service = serviceForHost(c.req.header('host'));
    const target = service ? apps[service] : undefined;
    if (!target) return c.text(`no onboard service answers to ${c.req.header('host') ?? 'this address'}`, 404);
    return target.fetch(c.req.raw, { user });
  });
  return app;
}
