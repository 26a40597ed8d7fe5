import { z } from 'zod';
import { NODE_NAMES, type NodeName } from '../../config/schema.ts';
import { SimError } from '../../domain/errors.ts';
import type { ImageService } from '../../domain/images.ts';
import { parseZonedIso } from '../../domain/iso-time.ts';
import { checkPodName } from '../../domain/names.ts';
import type { PodService, PodSpec } from '../../domain/pods.ts';
import type { ContainerRuntime } from '../../domain/runtime.ts';
import type { Clock } from '../../domain/clock.ts';
import type { VolumeService } from '../../domain/volumes.ts';
import { boolean, integer, list, record, text } from '../params.ts';
import type { RouteTable } from '../route-table.ts';
import { volumeOf, volumeParams } from './files.ts';

export interface PodRouteDeps {
  pods: PodService;
  images: ImageService;
  runtime: ContainerRuntime;
  volumes: VolumeService;
  clock: Clock;
  strict: boolean;
}

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
export function registerPodRoutes(routes: RouteTable, deps: PodRouteDeps): void {
  const { pods, clock } = deps;

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
      const user = c.get('user');
      try {
        await pods.createNamespace(user);
      } catch (err) {
        throw new SimError('NAMESPACE_CREATE_FAILED', `Namespace creation failed: ${(err as Error).message}`);
      }
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
      const user = c.get('user');
      const pod = checkPodName(p.pod_name);
      const node = p.node as NodeName;
      if (!(NODE_NAMES as readonly string[]).includes(node)) {
        throw new SimError('INVALID_NODE', `Invalid node ${JSON.stringify(p.node)}: choose one of ${NODE_NAMES.join(', ')}`);
      }
      if (p.max_duration < 1) throw new SimError('INVALID_PARAMETER', 'Parameter "max_duration": expected a whole number of minutes, at least 1');
      let dueAt = clock.now();
      if (p.scheduled_time !== undefined) {
        const parsed = parseZonedIso(p.scheduled_time);
        if (parsed === null) {
          throw new SimError(
            'INVALID_SCHEDULED_TIME',
            `scheduled_time ${JSON.stringify(p.scheduled_time)} is not an ISO 8601 time with a timezone, e.g. 2025-05-22T12:10:00+02:00`,
          );
        }
        // A time already past runs at once.
        dueAt = Math.max(parsed, dueAt);
      }
      const volume = p.pvc_name !== undefined ? volumeOf(deps, c, { pvc_name: p.pvc_name }).name : pod;
      if (deps.strict && p.ports?.length) {
        if (!p.namespace) throw new SimError('STRICT_MODE', 'Strict mode: ports require namespace=true (rule: spec section 9, port exposure)');
        if (!pods.hasNamespace(user)) {
          throw new SimError('STRICT_MODE', 'Strict mode: create the namespace with /em/pod/namespace/create before exposing ports (rule: spec section 9, port exposure)');
        }
      }
      const spec: PodSpec = {
        image: p.image,
        node,
        maxDurationMinutes: p.max_duration,
        ...(p.command !== undefined ? { command: p.command } : {}),
        ...(p.args ? { args: p.args } : {}),
        ...(p.envs ? { envs: Object.fromEntries(Object.entries(p.envs).map(([k, v]) => [k, String(v)])) } : {}),
        ...(p.ports ? { ports: p.ports } : {}),
        namespace: p.namespace ?? false,
        volume,
        ...(p.scheduled_time ? { scheduledTime: p.scheduled_time } : {}),
      };
      await pods.run(user, pod, spec, dueAt);
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
      const state = await pods.status(c.get('user'), checkPodName(p.pod_name));
      return c.json({ message: 'Successfully fetched DPhi Pod status', data: { state } }, 200);
    },
  );
}

/** Sections 5 to 7 of the spec: build, load, list. */
export function registerImageRoutes(routes: RouteTable, deps: PodRouteDeps): void {
  const { images } = deps;

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pod/image/build',
      tag: 'images',
      summary: 'Build an image from a Dockerfile and context in the volume (air-gapped, FROM the catalog only)',
      params: z.object({
        ...volumeParams,
        dockerfile: text().describe('path of the Dockerfile in the volume'),
        context: text().optional().describe('build context folder in the volume; default the volume root'),
        image: text().describe('image name, stored as USER-IMAGE'),
      }),
      success: { description: 'Built', example: { message: 'Docker Image built successfully' } },
      errors: ['MISSING_PARAMETER', 'BUILD_FAILED', 'INVALID_IMAGE_NAME', 'INVALID_PATH', 'ILLEGAL_PATH', 'INVALID_POD_NAME', 'STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      await images.build(volumeOf(deps, c, p), p.dockerfile, p.context ?? '.', p.image);
      return c.json({ message: 'Docker Image built successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/em/pod/image/load',
      tag: 'images',
      summary: 'Load an image from a docker save tar in the volume',
      params: z.object({
        ...volumeParams,
        tarfile: text().describe('path of the tar in the volume'),
        image: text().describe('the image name in the tar, USER-NAME or NAME'),
      }),
      success: { description: 'Loaded', example: { message: 'Tar file loaded successfully' } },
      errors: ['MISSING_PARAMETER', 'IMAGE_LOAD_FAILED', 'INVALID_IMAGE_NAME', 'INVALID_PATH', 'ILLEGAL_PATH', 'INVALID_POD_NAME', 'STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c, p) => {
      await images.load(volumeOf(deps, c, p), p.tarfile, p.image);
      return c.json({ message: 'Tar file loaded successfully' }, 200);
    },
  );

  routes.add(
    {
      methods: ['GET', 'POST'],
      path: '/em/pod/image/list',
      tag: 'images',
      summary: 'The user\'s own images (public catalog images are not listed)',
      params: z.object({}),
      success: {
        description: 'Images with name, tag, id, size, creation time and architecture',
        example: {
          message: 'Successfully loaded list of docker images',
          data: [{ name: 'client1-echo-test', tag: 'latest', id: 'sha256:…', size: 7_800_000, created: '2025-11-20T12:31:12Z', architecture: 'amd64' }],
        },
      },
      errors: ['STRICT_MODE', 'DOCKER_UNAVAILABLE'],
    },
    async (c) => c.json({ message: 'Successfully loaded list of docker images', data: await images.list(c.get('user')) }, 200),
  );
}
