import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import type { SimConfigInput } from '../../src/config/schema.ts';
import { PASSWORD } from './sim.ts';

const BIN = fileURLToPath(new URL('../../bin/em-sim.js', import.meta.url));

export interface ChildSim {
  url: string;
  process: ChildProcess;
  output(): string;
  token(user: string): Promise<string>;
  fetch(p: string, init?: RequestInit & { user?: string }): Promise<Response>;
  /** Sends the signal and waits for the process to end. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts `em-sim start` as its own process (so a test can SIGKILL it) with a configuration
 * file written into dataDir, and `env` added to this process's environment. Resolves once it
 * prints the URL it listens on.
 */
export async function spawnSim(dataDir: string, users: string[], config: SimConfigInput = {}, env: NodeJS.ProcessEnv = {}): Promise<ChildSim> {
  const file = path.join(dataDir, 'sim-config.yaml');
  writeFileSync(
    file,
    stringify({
      log: { level: 'info' },
      ...config,
      server: { host: '127.0.0.1', port: 0 },
      data_dir: dataDir,
      users: users.map((username) => ({ username, password: PASSWORD })),
    }),
  );
  const child = spawn(process.execPath, [BIN, 'start', '--config', file], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`em-sim did not start in time:\n${output}`)), 60_000);
    child.stdout!.on('data', () => {
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`em-sim exited with ${code} before listening:\n${output}`));
    });
  });
  const tokens = new Map<string, string>();
  const token = async (user: string) => {
    const cached = tokens.get(user);
    if (cached) return cached;
    const res = await fetch(`${url}/auth/`, { method: 'POST', body: new URLSearchParams({ username: user, password: PASSWORD }) });
    const access = ((await res.json()) as { access: string }).access;
    tokens.set(user, access);
    return access;
  };
  return {
    url,
    process: child,
    output: () => output,
    token,
    async fetch(p, init = {}) {
      const { user = users[0]!, ...rest } = init;
      const headers = new Headers(rest.headers);
      headers.set('Authorization', `Bearer ${await token(user)}`);
      return fetch(url + p, { ...rest, headers });
    },
    kill(signal = 'SIGKILL') {
      return new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill(signal);
      });
    },
  };
}
