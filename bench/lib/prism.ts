import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { ROOT, waitForOutput, wrap, type Child } from './proc.ts';

/** The provider's published Swagger, which Prism mocks. */
export const SWAGGER = path.resolve(ROOT, '../shared/reference/em-api-swagger.yaml');
/** The installed @stoplight/prism-cli's version. */
export const PRISM_VERSION: string = JSON.parse(readFileSync(path.join(ROOT, 'node_modules/@stoplight/prism-cli/package.json'), 'utf8')).version;

export interface Prism {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** A free TCP port on loopback (Prism takes no port 0). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** The spawn arguments of Prism mocking the Swagger on `port` (errors only on its console). */
export function prismCommand(port: number): [string, string[]] {
  return [process.execPath, [path.join(ROOT, 'node_modules/@stoplight/prism-cli/dist/index.js'), 'mock', '-h', '127.0.0.1', '-p', String(port), '--errors', 'false', SWAGGER]];
}

/**
 * Prism (`@stoplight/prism-cli`), the mock server a contract tester would otherwise point a client
 * at, serving the provider's Swagger; resolves once it says it listens. Throws with its output if
 * it does not start within 60 s or the Swagger file is missing.
 */
export async function startPrism(): Promise<Prism> {
  const port = await freePort();
  const [command, args] = prismCommand(port);
  const child: Child = wrap(spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
  try {
    await waitForOutput(child, /Prism is listening/);
    return { url: `http://127.0.0.1:${port}`, pid: child.pid, close: () => child.stop() };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
