import { z } from 'zod';
import type { EngineStatus } from '../../domain/engine-status.ts';
import { SimError } from '../../domain/errors.ts';
import type { PodService } from '../../domain/pods/pod-service.ts';
import type { RequestLog } from '../middleware/request-log.ts';
import { integer, text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

/** What the sim-only views read. */
export interface SimExtrasDeps {
  pods: PodService;
  engine: EngineStatus;
  requests: RequestLog;
}

const DEFAULT_REQUESTS = 100;

/** Onboard, nothing keeps a pod's output: say so wherever the simulator shows it. */
export const LOGS_REMINDER =
  'Simulator only: the real EM keeps no pod output (stdout and stderr are lost onboard); ' +
  'write your logs into /data and downlink them.';

const podExample = {
  pod_name: 'experiment-radiation',
  image: 'echo-test',
  node: 'FPGA',
  generation: 3,
  state: { terminated: { exitCode: 0, reason: 'Completed', startedAt: '2025-11-20T12:31:12Z', finishedAt: '2025-11-20T12:31:14Z' } },
};

const requestExample = {
  time: '2025-11-20T12:31:12.345Z',
  method: 'GET',
  path: '/em/files/downlink',
  query: 'filepath=downlink.txt',
  status: 200,
  duration_ms: 1.82,
  bytes_in: 0,
  bytes_out: 167,
};

/**
 * Simulator-only views that the real EM does not offer: a user's pods, a pod's output, a user's
 * own recent requests. Same Bearer tokens as /em/*; each user only ever sees their own.
 */
export function registerSimExtraRoutes(routes: RouteTable, deps: SimExtrasDeps): void {
  routes.add(
    {
      methods: ['GET'],
      path: '/sim/pods',
      tag: 'sim',
      summary: 'Your pods, with the state /em/pod/status would give for each (simulator only)',
      params: z.object({}),
      success: { description: 'One entry per pod name', example: { message: 'Pods of client1', data: [podExample] } },
      errors: [],
    },
    async (c) => {
      const user = c.get('user');
      return c.json({ message: `Pods of ${user}`, data: await deps.pods.list(user) }, 200);
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/pods/logs',
      tag: 'sim',
      summary: 'What a pod wrote to stdout and stderr (simulator only: the real EM keeps none of it)',
      description: 'The output of the pod\'s latest run. Onboard, logs must be written into /data and downlinked.',
      params: z.object({ pod_name: text().optional().describe('the pod; omitted: the default pod') }),
      success: {
        description: 'The output so far',
        example: { message: LOGS_REMINDER, data: { pod_name: 'experiment-radiation', stdout: 'started\n', stderr: '' } },
      },
      errors: ['INVALID_POD_NAME', 'POD_NOT_FOUND', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      await deps.engine.require();
      const { pod, stdout, stderr } = await deps.pods.logs(c.get('user'), p.pod_name);
      return c.json({ message: LOGS_REMINDER, data: { pod_name: pod, stdout, stderr } }, 200);
    },
  );

  routes.add(
    {
      methods: ['GET'],
      path: '/sim/requests',
      tag: 'sim',
      summary: 'Your own recent requests, newest first (simulator only)',
      description:
        `Kept in memory, the last ${deps.requests.perUser} per user; a restart forgets them. ` +
        'bytes_in and bytes_out count bodies, not headers. A request appears once its response is complete.',
      params: z.object({
        limit: integer().optional().describe(`how many, 1 to ${deps.requests.perUser}; default ${DEFAULT_REQUESTS}`),
      }),
      success: { description: 'The requests', example: { message: 'Recent requests of client1', data: [requestExample] } },
      errors: ['INVALID_PARAMETER'],
    },
    (c, p) => {
      const max = deps.requests.perUser;
      const limit = p.limit ?? DEFAULT_REQUESTS;
      if (limit < 1 || limit > max) {
        throw new SimError('INVALID_PARAMETER', `Parameter "limit": expected a whole number from 1 to ${max}, got ${limit}`);
      }
      const user = c.get('user');
      return c.json({ message: `Recent requests of ${user}`, data: deps.requests.recent(user, limit) }, 200);
    },
  );
}
