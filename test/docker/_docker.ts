import Docker from 'dockerode';
import { afterAll, beforeAll, expect } from 'vitest';
import { connectDocker, dockerAvailable, engineMissingMessage } from '../../src/adapters/docker/engine.ts';
import { startSim, type TestSim } from '../helpers/sim.ts';

/** The catalog images the Docker tests run; `npx em-sim images` (run by npm test) makes them. */
export const IMAGES = { alpine: 'alpine:latest', python: 'python:3.11-alpine' } as const;

/** Fails (never skips) with what to install when no engine answers. */
export async function requireDocker(): Promise<Docker> {
  const docker = connectDocker();
  if (!(await dockerAvailable(docker, 3000))) throw new Error(`Docker tests need an engine: ${engineMissingMessage()}`);
  for (const image of Object.values(IMAGES)) {
    try {
      await docker.getImage(image).inspect();
    } catch {
      throw new Error(`Docker tests need the catalog image ${image}: run \`npx em-sim images\` (npm test does)`);
    }
  }
  return docker;
}

/** What the request helpers need of a simulator: a fetch that signs in as `user` (a TestSim, or a container's). */
export type SimFetch = Pick<TestSim, 'fetch'>;

export type PodState = Record<string, Record<string, unknown>>;

export async function podStatus(sim: SimFetch, user: string, pod?: string): Promise<{ status: number; body: any }> {
  const query = pod ? `?pod_name=${encodeURIComponent(pod)}` : '';
  const res = await sim.fetch(`/em/pod/status${query}`, { user });
  return { status: res.status, body: await res.json() };
}

/** Polls the status endpoint until the state has the wanted key (waiting/running/terminated). */
export async function waitForState(sim: SimFetch, user: string, pod: string | undefined, key: 'waiting' | 'running' | 'terminated', timeoutMs = 60_000): Promise<Record<string, unknown>> {
  const until = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < until) {
    const { status, body } = await podStatus(sim, user, pod);
    if (status === 200 && body.data.state[key]) return body.data.state[key];
    last = body;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`pod ${pod ?? '(default)'} of ${user} never reached ${key}; last status: ${JSON.stringify(last)}`);
}

export async function run(sim: SimFetch, user: string, params: Record<string, unknown>): Promise<void> {
  const res = await sim.fetch('/em/pod/run', {
    user,
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ node: 'FPGA', max_duration: 1, ...params }),
  });
  expect(res.status, JSON.stringify(await res.clone().json())).toBe(200);
  expect(await res.json()).toEqual({ message: 'Docker run scheduled successfully' });
}

export async function post(sim: SimFetch, user: string, path: string, params: Record<string, string>): Promise<{ status: number; body: any }> {
  const res = await sim.fetch(path, { user, method: 'POST', body: new URLSearchParams(params) });
  return { status: res.status, body: await res.json() };
}

export async function downlink(sim: SimFetch, user: string, filepath: string, pod?: string): Promise<{ status: number; text: string }> {
  const q = new URLSearchParams({ filepath, ...(pod ? { pod_name: pod } : {}) });
  const res = await sim.fetch(`/em/files/downlink?${q}`, { user });
  return { status: res.status, text: await res.text() };
}

export async function uplink(sim: SimFetch, user: string, files: Record<string, string | Uint8Array>, fields: Record<string, string> = {}): Promise<void> {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const [name, content] of Object.entries(files)) body.append('files', new Blob([content as BlobPart]), name);
  const res = await sim.fetch('/em/files/uplink', { user, method: 'POST', body });
  expect(res.status, await res.clone().text()).toBe(200);
}

/** Removes every container, network (the users' and the services') and image a test simulator made. */
export async function cleanupDocker(docker: Docker, instanceId: string, users: string[]): Promise<void> {
  const containers = await docker.listContainers({ all: true, filters: { label: [`em-sim.instance=${instanceId}`] } });
  await Promise.all(containers.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch(() => {})));
  await docker.getNetwork(`em-sim-services-${instanceId}`).remove().catch(() => {});
  for (const user of users) {
    await docker.getNetwork(`em-sim-${user}.${instanceId}`).remove().catch(() => {});
    const images = await docker.listImages({ filters: { reference: [`${user}-*`] } });
    // Untag by name, never remove by id: a loaded image may be a catalog image under the user's
    // name, and removing its id would take the catalog's tags with it.
    const tags = images.flatMap((image) => image.RepoTags ?? []).filter((tag) => tag.startsWith(`${user}-`));
    for (const tag of tags) await docker.getImage(tag).remove().catch(() => {});
  }
}

/**
 * A simulator on the real engine for the tests of one describe block: started before them with
 * `users` (failing, never skipping, without an engine), and its containers, networks and images
 * removed after. Read `docker` and `sim` inside the tests.
 */
export function dockerSim(users: string[], options: Omit<Parameters<typeof startSim>[0] & object, 'users'> = {}): { readonly docker: Docker; readonly sim: TestSim } {
  const handle = {} as { docker: Docker; sim: TestSim };
  beforeAll(async () => {
    handle.docker = await requireDocker();
    handle.sim = await startSim({ ...options, users });
  });
  afterAll(async () => {
    if (handle.sim) await cleanupDocker(handle.docker, handle.sim.running.sim.instanceId, users);
    await handle.sim?.close();
  });
  return handle;
}
