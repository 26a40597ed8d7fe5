import { fileURLToPath } from 'node:url';
import { spawnTs, waitForOutput, type Child } from './proc.ts';

const SCRIPT = fileURLToPath(new URL('./baseline-server.ts', import.meta.url));

export interface Baseline {
  url: string;
  pid: number;
  close(): Promise<void>;
}

/** Starts one of the bare comparison servers (see baseline-server.ts) as its own process. */
export async function startBaseline(mode: 'jwt' | 'plain' | 'upload' | 'download', arg: string): Promise<Baseline> {
  const child: Child = spawnTs(SCRIPT, [mode, arg]);
  try {
    const url = (await waitForOutput(child, /listening on (http:\/\/\S+)/))[1]!;
    return { url, pid: child.pid, close: () => child.stop() };
  } catch (err) {
    await child.stop();
    throw err;
  }
}
