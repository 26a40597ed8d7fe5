import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import type { SimConfigInput } from '../../src/config/schema.ts';
import { ROOT, run, spawnTs, waitForOutput, type Child } from './proc.ts';

export const PASSWORD = 'bench-password';
/** The simulator under test; EM_SIM_BENCH_BIN points at another checkout's bin/em-sim.js to compare. */
const BIN = process.env.EM_SIM_BENCH_BIN ?? path.join(ROOT, 'bin/em-sim.js');
/** Shared with the bare baseline servers, so that one token works against both. */
export const SECRET = 'em-sim-bench-signing-secret-0123456789abcdef';

export interface BenchSim {
  url: string;
  pid: number;
  dataDir: string;
  user: string;
  /** An access token of `user`, valid for a day. */
  token: string;
  /** The other users (startBenchSim's moreUsers), named USERx0, USERx1, … */
  others: string[];
  /** An access token of any of the users (logged in once). */
  tokenOf(username: string): Promise<string>;
  /** Where the user's volume lives on disk. */
  volumeDir(volume?: string): string;
  fetch(p: string, init?: RequestInit): Promise<Response>;
  /** The same as another of the users. */
  fetchAs(username: string, p: string, init?: RequestInit): Promise<Response>;
  /** null while the simulator runs; once it has exited, its exit and the tail of its output. */
  gone(): string | null;
  /** Stops the simulator, removes the containers and network it made, deletes its data. */
  close(): Promise<void>;
}

/**
 * A freshly started `em-sim start` child process with its own temporary data directory and a
 * unique user (container and network names are per user, so nothing collides with other
 * simulators on the same engine). Logging is at warn so that it does not dominate; the
 * one-request-per-user lock is off because load benchmarks drive one user over many connections.
 */
export async function startBenchSim(config: SimConfigInput = {}, moreUsers = 0): Promise<BenchSim> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'em-sim-bench-'));
  const user = `bench${randomBytes(4).toString('hex')}`;
  const others = Array.from({ length: moreUsers }, (_, i) => `${user}x${i}`);
  const file = path.join(dataDir, 'sim-config.yaml');
  writeFileSync(
    file,
    stringify({
      log: { level: 'warn' },
      // Nothing prepared in the background while a benchmark measures.
      images: { prepare: [] },
      ...config,
      limits: { one_request_per_user: false, ...config.limits },
      auth: { signing_secret: SECRET, access_token_lifetime: 86_400, ...config.auth },
      server: { host: '127.0.0.1', port: 0 },
      data_dir: dataDir,
      users: [user, ...others].map((username) => ({ username, password: PASSWORD })),
    }),
  );
  let child: Child | null = null;
  const cleanup = async () => {
    await child?.stop();
    await removeContainers(dataDir);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    child = spawnTs(BIN, ['start', '--config', file]);
    const url = (await waitForOutput(child, /listening on (http:\/\/\S+)/))[1]!;
    const tokens = new Map<string, Promise<string>>();
    const tokenOf = (username: string): Promise<string> => {
      let t = tokens.get(username);
      if (!t) {
        t = login(url, username);
        tokens.set(username, t);
      }
      return t;
    };
    const token = await tokenOf(user);
    return {
      url,
      pid: child.pid,
      dataDir,
      user,
      token,
      others,
      tokenOf,
      volumeDir: (volume = 'default') => path.join(dataDir, 'volumes', user, volume),
      fetch: (p, init = {}) => signedFetch(url + p, token, init),
      async fetchAs(username, p, init = {}) {
        return signedFetch(url + p, await tokenOf(username), init);
      },
      gone() {
        const { exitCode, signalCode } = child!.process;
        return exitCode === null && signalCode === null ? null : `em-sim exited (${signalCode ?? `code ${exitCode}`}):\n${child!.output()}`;
      },
      close: cleanup,
    };
  } catch (err) {
    await cleanup();
    throw err;
  }
}

/** POST /auth/ as a bench user; the access token. */
async function login(url: string, username: string): Promise<string> {
  const res = await fetch(`${url}/auth/`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`login of ${username} failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { access: string }).access;
}

function signedFetch(url: string, token: string, init: RequestInit): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('Authorization', `Bearer ${token}`);
  return fetch(url, { ...init, headers });
}

/** Containers stay when a simulator stops (the next start adopts them); the benchmark's must not. */
async function removeContainers(dataDir: string): Promise<void> {
  const idFile = path.join(dataDir, 'instance-id');
  if (!existsSync(idFile) || !(await dockerAvailable())) return;
  const instance = readFileSync(idFile, 'utf8').trim();
  const ids = (await run('docker', ['ps', '-aq', '--filter', `label=em-sim.instance=${instance}`]).catch(() => ({ stdout: '' }))).stdout
    .split(/\s+/)
    .filter(Boolean);
  if (ids.length) await run('docker', ['rm', '-f', ...ids]).catch(() => undefined);
  // Every network of the instance (users' and the services'), by label: their engine names carry the instance id.
  const networks = (await run('docker', ['network', 'ls', '-q', '--filter', `label=em-sim.instance=${instance}`]).catch(() => ({ stdout: '' }))).stdout
    .split(/\s+/)
    .filter(Boolean);
  if (networks.length) await run('docker', ['network', 'rm', ...networks]).catch(() => undefined);
}

let engine: Promise<boolean> | null = null;

/** Whether a Docker engine answers (asked once per run). */
export function dockerAvailable(): Promise<boolean> {
  engine ??= run('docker', ['version', '--format', '{{.Server.Version}}'])
    .then(() => true)
    .catch(() => false);
  return engine;
}
