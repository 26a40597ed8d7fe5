import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildConfig } from '../../src/config/load.ts';
import type { SimConfig, SimConfigInput } from '../../src/config/schema.ts';
import { JsonLogger } from '../../src/adapters/log/json-logger.ts';
import type { ContainerEngine } from '../../src/domain/ports/container-runtime.ts';
import { startServer, type RunningSimulator } from '../../src/simulator.ts';

export const PASSWORD = 'test-password';

export interface TestSim {
  url: string;
  dataDir: string;
  config: SimConfig;
  running: RunningSimulator;
  /** An access token for the user. */
  token(user?: string): Promise<string>;
  /** fetch against the simulator with the user's token; `path` starts with "/". */
  fetch(path: string, init?: RequestInit & { user?: string }): Promise<Response>;
  /** The directory holding a user's volume. */
  volumeDir(user: string, volume?: string): string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

let counter = 0;

/** A unique lowercase name for users and pods, so tests can run side by side. */
export function uniqueName(prefix = 'u'): string {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${counter.toString(36)}${Math.random().toString(36).slice(2, 6)}`;
}

export function tempDir(prefix = 'em-sim-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

/**
 * Starts a real simulator on an ephemeral port with its own data directory. Users named in
 * `users` get PASSWORD; `client1` is always there. `engine` replaces the Docker engine
 * (test/helpers/fake-runtime.ts); `dockerEnv` points the Docker engine elsewhere (DOCKER_HOST).
 */
export async function startSim(
  options: { users?: string[]; config?: SimConfigInput; dataDir?: string; engine?: ContainerEngine; dockerEnv?: NodeJS.ProcessEnv } = {},
): Promise<TestSim> {
  const dataDir = options.dataDir ?? tempDir();
  const ownsDir = !options.dataDir;
  const users = [...new Set(['client1', ...(options.users ?? [])])].map((username) => ({ username, password: PASSWORD }));
  const config = buildConfig({
    users,
    ...options.config,
    server: { host: '127.0.0.1', port: 0, ...options.config?.server },
    data_dir: dataDir,
    log: { level: 'silent', ...options.config?.log },
  });
  const running = await startServer(config, {
    logger: new JsonLogger(config.log.level),
    ...(options.engine ? { engine: options.engine } : {}),
    ...(options.dockerEnv ? { dockerEnv: options.dockerEnv } : {}),
  });
  const tokens = new Map<string, string>();
  const token = async (user = 'client1') => {
    const cached = tokens.get(user);
    if (cached) return cached;
    const res = await fetch(`${running.url}/auth/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: user, password: PASSWORD }),
    });
    if (res.status !== 200) throw new Error(`login of ${user} failed: ${res.status} ${await res.text()}`);
    const access = ((await res.json()) as { access: string }).access;
    tokens.set(user, access);
    return access;
  };
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await running.close();
    if (ownsDir) rmSync(dataDir, { recursive: true, force: true });
  };
  return {
    url: running.url,
    dataDir,
    config,
    running,
    token,
    async fetch(p, init = {}) {
      const { user, ...rest } = init;
      const headers = new Headers(rest.headers);
      if (!headers.has('Authorization')) headers.set('Authorization', `Bearer ${await token(user)}`);
      return fetch(running.url + p, { ...rest, headers });
    },
    volumeDir: (user, volume = 'default') => path.join(dataDir, 'volumes', user, volume),
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** A multipart body with the given files under the field name "files", plus plain fields. */
export function form(files: Record<string, string | Uint8Array>, fields: Record<string, string> = {}): FormData {
  const body = new FormData();
  for (const [key, value] of Object.entries(fields)) body.append(key, value);
  for (const [name, content] of Object.entries(files)) body.append('files', new Blob([content as BlobPart]), name);
  return body;
}
