import type { Hono, MiddlewareHandler } from 'hono';
import { z } from 'zod';
import { ONBOARD_SERVICES, SERVICE_HOSTS, type OnboardAccessStatus } from '../../domain/onboard/onboard-access.ts';
import type { ServiceUsage } from '../../domain/onboard/service-usage.ts';
import type { AppEnv } from '../env.ts';
import { SERVICE_BODY_LIMIT, type ServiceApps } from '../onboard/services-app.ts';
import { bodyLimit } from 'hono/body-limit';
import type { RouteTable } from '../route-table.ts';

/** What the /sim/services routes read. */
export interface ServiceRoutesDeps {
  apps: ServiceApps;
  usage: ServiceUsage;
  /** How pods reach the services now (relays, problems). */
  access: () => OnboardAccessStatus;
}

const usageExample = {
  service: 'ollama',
  model: 'gemma3:4b',
  calls: 3,
  prompt_tokens: 1047,
  completion_tokens: 212,
  images: 2,
  first_call: '2026-12-01T10:02:11.000Z',
  last_call: '2026-12-01T10:04:57.000Z',
};

/**
 * The onboard services from the host (simulator only): which exist and how pods reach them,
 * what each user's calls to the models would be billed for, and every service's own API under
 * /sim/services/SERVICE/ with the user's token (the same answers a pod gets from
 * http://SERVICE-HOST/, counted against the same user).
 */
export function registerServiceRoutes(routes: RouteTable, app: Hono<AppEnv>, authenticate: MiddlewareHandler<AppEnv>, deps: ServiceRoutesDeps): void {
  routes.add(
    {
      methods: ['GET'],
      path: '/sim/services',
      tag: 'sim',
      summary: 'The onboard services a pod reaches, their names, and whether they answer (simulator only)',
      params: z.object({}),
      success: {
        description: 'One entry per service',
        example: {
          message: 'Onboard services',
          data: {
            services: [{ service: 'telemetry', enabled: true, url_in_pods: 'http://satellite-telemetry.dphi-tm', url_from_host: '/sim/services/telemetry/' }],
            names_in_pods: ['satellite-telemetry.dphi-tm'],
            problem: null,
          },
        },
      },
      errors: [],
    },
    (c) => {
      const access = deps.access();
      return c.json(
        {
          message: 'Onboard services',
          data: {
            services: ONBOARD_SERVICES.map((service) => ({
              service,
              enabled: Boolean(deps.apps[service]),
              url_in_pods: `http://${SERVICE_HOSTS[service]}`,
              url_from_host: `/sim/services/${service}/`,
            })),
            names_in_pods: access.names,
            problem: access.problem,
          },
        },
        200,
      );
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/services/usage',
      tag: 'sim',
      summary: 'Your calls to the onboard models, per service and model, with tokens and images: what CG2 would bill (simulator only)',
      params: z.object({}),
      success: { description: 'Totals, kept across restarts', example: { message: 'Onboard model usage of client1', data: [usageExample] } },
      errors: [],
    },
    (c) => {
      const user = c.get('user');
      return c.json({ message: `Onboard model usage of ${user}`, data: deps.usage.totals(user) }, 200);
    },
  );

  for (const service of ONBOARD_SERVICES) {
    const target = deps.apps[service];
    const prefix = `/sim/services/${service}`;
    app.use(`${prefix}/*`, authenticate);
    app.use(
      `${prefix}/*`,
      bodyLimit({
        maxSize: SERVICE_BODY_LIMIT,
        onError: (c) => c.json({ error: 'INVALID_PARAMETER', message: `Request body is larger than ${SERVICE_BODY_LIMIT} bytes, the most an onboard service reads` }, 413),
      }),
    );
    app.all(`${prefix}/*`, (c) => {
      if (!target) return c.json({ error: 'NOT_FOUND', message: `The ${service} service is turned off (services.${service}.enabled)` }, 404);
      const url = new URL(c.req.url);
      url.pathname = url.pathname.replace(/\/{2,}/g, '/').slice(prefix.length) || '/';
      const headers = new Headers(c.req.raw.headers);
      headers.set('host', SERVICE_HOSTS[service]);
      headers.delete('authorization');
      const hasBody = c.req.method !== 'GET' && c.req.method !== 'HEAD';
      const request = new Request(url, { method: c.req.method, headers, ...(hasBody ? { body: c.req.raw.body, duplex: 'half' } : {}) } as RequestInit);
      return target.fetch(request, { user: c.get('user') });
    });
  }
}

