import { z } from 'zod';
import type { PodService } from '../../domain/pods/pod-service.ts';
import { boolean, integer, list, record, text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

const runParams = z.object({
  image: text().describe('image to run: one of yours (built or loaded), else from the onboard catalog'),
  max_duration: integer().describe('minutes before the pod is stopped gracefully'),
  node: text().describe('FPGA, GPU or MPU'),
  scheduled_time: text().optional().describe('ISO 8601 with a timezone, e.g. 2025-05-22T12:10:00+02:00; omitted: now'),
  command: text().optional().describe('replaces the image command; run through /bin/sh -c unless args are given'),
  args: list(z.string()).optional().describe('arguments appended to command (Kubernetes semantics)'),
  envs: record().optional().describe('environment variables of the container'),
  pod_name: text().optional().describe('names the pod and its volume; omitted: the default pod'),
  pvc_name: text().optional().describe('volume to mount at /data instead of the pod\'s own'),
  ports: list(z.coerce.number().int().min(1).max(65535)).optional().describe('ports the pod serves on its namespace'),
  namespace: boolean().optional().describe('run in the user\'s private namespace'),
});

const podParams = z.object({ pod_name: text().optional() });

/** Sections 8 to 10 of the spec: namespace, run, status. */
export function registerPodRoutes(routes: RouteTable, deps: { pods: PodService; strict: boolean }): void {
  const { pods } = deps;

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pod/namespace/create',
      tag: 'pods',
      summary: 'Create the user\'s private namespace for inter-pod communication (idempotent)',
      success: { description: 'Created, or already there', example: { message: 'Namespace created successfully' } },
      errors: ['NAMESPACE_CREATE_FAILED', 'DOCKER_UNAVAILABLE'],
    },
    async (c) => {
      await pods.createNamespace(c.get('user'));
      return c.json({ message: 'Namespace created successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pod/run',
      tag: 'pods',
      summary: 'Run (or schedule) a DPhi Pod; failures to start show in /em/pod/status',
      params: runParams,
      success: { description: 'Recorded; check the status', example: { message: 'Docker run scheduled successfully' } },
      errors: ['MISSING_PARAMETER', 'INVALID_PARAMETER', 'INVALID_NODE', 'INVALID_SCHEDULED_TIME', 'INVALID_POD_NAME', 'STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      await pods.run(c.get('user'), {
        image: p.image,
        node: p.node,
        maxDuration: p.max_duration,
        scheduledTime: p.scheduled_time,
        command: p.command,
        args: p.args,
        envs: p.envs,
        podName: p.pod_name,
        pvcName: p.pvc_name,
        ports: p.ports,
        namespace: p.namespace,
      });
      return c.json({ message: 'Docker run scheduled successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['GET', 'POST'],
      path: '/em/pod/status',
      tag: 'pods',
      summary: 'The Kubernetes container state of a pod',
      params: podParams,
      success: {
        description: 'waiting, running or terminated, with Kubernetes reason words',
        example: { message: 'Successfully fetched DPhi Pod status', data: { state: { running: { startedAt: '2025-11-20T12:31:12Z' } } } },
      },
      errors: ['INVALID_POD_NAME', 'POD_NOT_FOUND', 'STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      const { state, warning } = await pods.status(c.get('user'), p.pod_name);
      // `warnings` is em-sim's own (native platform mode): the real EM has no such field.
      const data = warning && !deps.strict ? { state, warnings: [warning] } : { state };
      return c.json({ message: 'Successfully fetched DPhi Pod status', data }, 200);
    },
  );
}
