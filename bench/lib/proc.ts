import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The repository root: children run from here so that `--import tsx` resolves. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  process: ChildProcess;
  pid: number;
  output(): string;
  /** SIGTERM, then SIGKILL after graceMs; resolves once the process is gone. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts a TypeScript file under Node with tsx, as its own process. */
export function spawnTs(file: string, args: string[] = []): Child {
  return wrap(spawn(process.execPath, ['--import', 'tsx', file, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
}

export function wrap(child: ChildProcess): Child {
  let output = '';
  // Keep only the tail: a chatty child must not grow this process's memory.
  const keep = (d: Buffer) => {
    output = (output + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    process: child,
    pid: child.pid!,
    output: () => output,
    stop: (graceMs = 5000) => stopProcess(child, graceMs),
  };
}

/** Resolves with the first match of `pattern` in the child's stdout. */
export function waitForOutput(child: Child, pattern: RegExp, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const onData = (d: Buffer) => {
      seen += d.toString();
      const match = pattern.exec(seen);
      if (match) {
        done();
        resolve(match);
      }
    };
    const onExit = (code: number | null) => {
      done();
      reject(new Error(`process exited (${code}) before printing ${pattern}:\n${child.output()}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${child.output()}`));
    }, timeoutMs);
    const done = () => {
      clearTimeout(timer);
      child.process.stdout!.off('data', onData);
      child.process.off('exit', onExit);
    };
    child.process.stdout!.on('data', onData);
    child.process.once('exit', onExit);
  });
}

export function stopProcess(child: ChildProcess, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs a command to completion; rejects on a non-zero exit. */
export function run(command: string, args: string[], options: { shell?: boolean } = {}): Promise<{ stdout: string; stderr: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], shell: options.shell ?? false });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const ms = performance.now() - started;
      if (code === 0) resolve({ stdout, stderr, ms });
      else reject(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr.trim()}`));
    });
  });
}

/** Resident memory of a process, in bytes (VmRSS of /proc/PID/status). */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/** Samples a process's RSS every intervalMs until stopped; reports the first sample and the peak. */
export function sampleRss(pid: number, intervalMs = 20): { stop(): { before: number; peak: number; samples: number } } {
  const before = rssBytes(pid);
  let peak = before;
  let samples = 1;
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
      samples++;
    } catch {
      /* the process went away; the caller will notice */
    }
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      try {
        peak = Math.max(peak, rssBytes(pid));
      } catch {
        /* gone */
      }
      return { before, peak, samples };
    },
  };
}

/**
 * Polls GET `url` every 5 ms until it answers 200; rejects after `timeoutMs`, or at once when
 * `gone()` says why the server cannot answer any more (its process exited). For cold starts.
 */
export async function waitForOk(url: string, options: { timeoutMs?: number; headers?: Record<string, string>; gone?: () => string | null } = {}): Promise<void> {
  const until = performance.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const ok = await fetch(url, { headers: options.headers ?? {} }).then((r) => r.status === 200, () => false);
    if (ok) return;
    const why = options.gone?.();
    if (why) throw new Error(why);
    if (performance.now() > until) throw new Error(`no 200 from ${url} within ${options.timeoutMs ?? 60_000} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
