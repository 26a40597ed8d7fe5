import { spawn } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import path from 'node:path';
import type { RootfsProducer } from '../../domain/ports/standin-recipes.ts';

/**
 * Runs a command whose stdout is a tar stream; forwards its stderr lines to `onLine` and keeps a
 * tail of them for the error when it fails.
 */
export function runProducer(command: string, args: string[], onLine: (line: string) => void, cleanup: () => Promise<void>): RootfsProducer {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const tail: string[] = [];
  let pending = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trimEnd();
      pending = pending.slice(nl + 1);
      if (!line) continue;
      tail.push(line);
      if (tail.length > 30) tail.shift();
      onLine(line);
    }
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on('error', (err) => reject(new Error(`${command}: ${err.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      if (pending.trim()) tail.push(pending.trim());
      const how = signal ? `was stopped by ${signal}` : `exited with ${code}`;
      reject(new Error(`${command} ${how}${tail.length ? `; its last lines:\n${tail.join('\n')}` : ''}`));
    });
  });
  done.catch(() => {}); // observed by the provisioning; never an unhandled rejection
  return {
    tar: child.stdout,
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    },
    cleanup,
  };
}

/** The first executable among `candidates`, then `name` on PATH. */
export function findExecutable(name: string, candidates: string[] = []): string | undefined {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const file of [...candidates, ...dirs.map((dir) => path.join(dir, name))]) {
    try {
      accessSync(file, fsConstants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** What to say when a tool a recipe needs is missing. */
export function missingTool(tool: string, pkg: string): Error {
  return new Error(`${tool} is not installed: apt-get install ${pkg} (bash scripts/ensure-docker.sh installs it as root on Debian)`);
}
