import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import { dockerode } from '../on-first-use.ts';

/**
 * The client `make()` returns, made at the first use of any of its members. The engine client
 * and its HTTP stack (dockerode, docker-modem, node:https) took 12 ms of each cold start here,
 * before the server could answer, where the engine is first asked 100 ms in (simulator.ts).
 */
function onFirstUse(make: () => Docker): Docker {
  let real: Docker | undefined;
  const client = () => (real ??= make());
  // Each method bound to the client once, not at every call (a method replaced later is bound anew).
  const bound = new WeakMap<object, unknown>();
  return new Proxy({} as Docker, {
    get(_target, key) {
      const docker = client();
      const value = Reflect.get(docker, key, docker) as unknown;
      if (typeof value !== 'function') return value;
      if (!bound.has(value)) bound.set(value, (value as (...args: unknown[]) => unknown).bind(docker));
      return bound.get(value);
    },
    set: (_target, key, value) => Reflect.set(client(), key, value),
    has: (_target, key) => Reflect.has(client(), key),
  });
}

/** Where the engine is looked for when DOCKER_HOST is not set. */
export const DEFAULT_SOCKET = '/var/run/docker.sock';

/**
 * Which engine the simulator talks to: DOCKER_HOST (unix:// or tcp://, as the docker CLI reads
 * it) when set, else the local socket. With DOCKER_TLS_VERIFY set, a tcp:// engine is reached
 * over TLS with the certificates in DOCKER_CERT_PATH (default ~/.docker), as the CLI does.
 */
export function connectDocker(env: NodeJS.ProcessEnv = process.env): Docker {
  // Read now: an unsupported DOCKER_HOST or a missing certificate stops the start, not a later call.
  const options = dockerOptions(env);
  return onFirstUse(() => new (dockerode())(options));
}

/** dockerode's options for the engine that env names (see connectDocker); throws for what is not supported. */
function dockerOptions(env: NodeJS.ProcessEnv): Docker.DockerOptions {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { socketPath: DEFAULT_SOCKET };
  if (host.startsWith('unix://')) return { socketPath: host.slice('unix://'.length) };
  if (host.startsWith('tcp://')) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    const tls = Boolean(env.DOCKER_TLS_VERIFY && env.DOCKER_TLS_VERIFY !== '0');
    const port = url.port ? Number(url.port) : tls ? 2376 : 2375;
    if (!tls) return { host: url.hostname, port, protocol: 'http' };
    const certDir = env.DOCKER_CERT_PATH || path.join(homedir(), '.docker');
    const read = (name: string) => readFileSync(path.join(certDir, name));
    return { host: url.hostname, port, protocol: 'https', ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') };
  }
  throw new Error(`DOCKER_HOST=${host} is not supported: use unix:///path/to/docker.sock or tcp://HOST:PORT`);
}

/** The engine address in words, for messages: "unix:///var/run/docker.sock" or "tcp://... (DOCKER_HOST)". */
export function describeEngine(env: NodeJS.ProcessEnv = process.env): string {
  const host = env.DOCKER_HOST?.trim();
  return host ? `${host} (from DOCKER_HOST)` : `unix://${DEFAULT_SOCKET}`;
}

/** The one line to show when no engine answers: where we looked and what to do about it. */
export function engineMissingMessage(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_HOST?.trim()) {
    return `no Docker engine answers at ${describeEngine(env)}: start the engine there, or unset DOCKER_HOST to use ${DEFAULT_SOCKET}`;
  }
  return (
    `no Docker engine answers at ${describeEngine(env)}: start one (\`dockerd\`; on Debian as root ` +
    '`bash scripts/ensure-docker.sh` installs docker.io and starts it) or set DOCKER_HOST'
  );
}

/**
 * Pings the engine: null when it answers within `timeoutMs`, else why not (an errno code such as
 * ENOENT or EACCES, the engine's message, or TIMEOUT). Never throws.
 */
export async function pingEngine(docker: Docker, timeoutMs = 2000): Promise<string | null> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      abort.abort();
      resolve('TIMEOUT');
    }, timeoutMs);
    timer.unref();
  });
  // dockerode's ping takes { abortSignal } although its type definitions do not say so.
  const answer = (docker.ping as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>)
    .call(docker, { abortSignal: abort.signal })
    .then(
      () => null,
      (err: NodeJS.ErrnoException) => err.code ?? err.message ?? String(err),
    );
  try {
    return await Promise.race([answer, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** True when the engine answers a ping within `timeoutMs`. Never throws. */
export async function dockerAvailable(docker: Docker, timeoutMs = 2000): Promise<boolean> {
  return (await pingEngine(docker, timeoutMs)) === null;
}

/**
 * Connects and checks that the engine answers; throws an Error carrying
 * {@link engineMissingMessage} when it does not. For the CLI and the Docker test suites.
 */
export async function requireDocker(env: NodeJS.ProcessEnv = process.env, timeoutMs = 2000): Promise<Docker> {
  const docker = connectDocker(env);
  if (!(await dockerAvailable(docker, timeoutMs))) throw new Error(engineMissingMessage(env));
  return docker;
}

/** "28.2.2 (linux/amd64)": the engine's version and platform, or null when it does not say. */
export async function engineVersion(docker: Docker): Promise<string | null> {
  try {
    const v = await docker.version();
    return `${v.Version} (${v.Os}/${v.Arch})`;
  } catch {
    return null;
  }
}
