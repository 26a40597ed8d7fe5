import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { createLogUpdate } from 'log-update';
import type { SimConfig } from '../config/schema.ts';
import type { ExecutionRecord, TaskRunRecord } from '../domain/operations/execution.ts';
import type { OperationProblem } from '../domain/operations/operation.ts';
import { createLogger, operationChecker, startServer, type RunningSimulator } from '../simulator.ts';
import { CliError } from './errors.ts';
import { reachableUrl } from './running.ts';

/*
 * `em-sim operation validate | run | list | show` (issue 12): operations checked locally, run
 * against a simulator over its /sim/ API (one is started for the command when none answers),
 * with the namespace's file area on the user's disk.
 */

/** Where the output goes: lines for stdout and stderr, and whether each is a terminal. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
  outIsTty: boolean;
  errIsTty: boolean;
}

export const processOutput: CliOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  outIsTty: Boolean(process.stdout.isTTY),
  errIsTty: Boolean(process.stderr.isTTY),
};

/** `file:line:column: key: message`, as compilers print them (editors jump to it). */
export function formatProblem(file: string, p: OperationProblem, kind: 'error' | 'warning'): string {
  return `${file}:${p.line}:${p.column}: ${kind}: ${p.key ? `${p.key}: ` : ''}${p.message}`;
}

/** `operation validate FILE…`: every error of every file; returns the exit code (1 on any error). */
export function validateFiles(files: string[], io: CliOutput, config?: SimConfig): number {
  let bad = 0;
  const check = operationChecker(config);
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      io.err(`${file}: cannot read it: ${(err as Error).message}`);
      bad++;
      continue;
    }
    const checked = check(text, path.basename(file));
    for (const w of checked.warnings) io.err(formatProblem(file, w, 'warning'));
    for (const e of checked.errors) io.out(formatProblem(file, e, 'error'));
    if (checked.operation) io.out(`✓ ${file}: ${checked.operation.namespace} / ${checked.operation.id} (${checked.operation.tasks.length} task${checked.operation.tasks.length === 1 ? '' : 's'})`);
    else {
      io.out(`✘ ${file}: ${checked.errors.length} error${checked.errors.length === 1 ? '' : 's'}`);
      bad++;
    }
  }
  return bad ? 1 : 0;
}

// ---- talking to a simulator ----

export interface ConnectOptions {
  url?: string;
  user?: string;
  password?: string;
}

/** A simulator reached over HTTP as one user, and how to let it go. */
export class SimulatorClient {
  private token: string | null = null;

  constructor(
    readonly url: string,
    private readonly user: string,
    private readonly password: string,
    private readonly started: RunningSimulator | null,
  ) {}

  /** Whether the simulator was started by this command (and stops with it). */
  get ownsSimulator(): boolean {
    return this.started !== null;
  }

  /** fetch with the user's token; logs in again once when the token has expired. */
  async fetch(pathAndQuery: string, init: RequestInit = {}): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      if (!this.token) await this.login();
      const res = await fetch(`${this.url}${pathAndQuery}`, { ...init, headers: { ...(init.headers as Record<string, string>), Authorization: `Bearer ${this.token}` } });
      if (res.status === 401 && attempt === 0 && !(init.body instanceof ReadableStream)) {
        this.token = null;
        continue;
      }
      return res;
    }
  }

  /** GET a JSON answer; a failure becomes a CliError with the simulator's message. */
  async json<T>(pathAndQuery: string, init: RequestInit = {}): Promise<T> {
    const res = await this.fetch(pathAndQuery, init);
    const body = (await res.json().catch(() => null)) as T & { error?: string; message?: string };
    if (!res.ok) throw new CliError(`${init.method ?? 'GET'} ${pathAndQuery}: ${res.status} ${body?.error ?? ''}: ${body?.message ?? ''}`.trim());
    return body;
  }

  async close(): Promise<void> {
    await this.started?.close();
  }

  private async login(): Promise<void> {
    const res = await fetch(`${this.url}/auth/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ username: this.user, password: this.password }),
    });
    const body = (await res.json().catch(() => ({}))) as { access?: string; detail?: string };
    if (!res.ok || !body.access) {
      throw new CliError(`cannot log in to ${this.url} as ${this.user}: ${body.detail ?? `HTTP ${res.status}`}; pass --user and --password of a user in its configuration`);
    }
    this.token = body.access;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/sim/health`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json()) as { status?: string };
    return body.status === 'ok';
  } catch {
    return false;
  }
}

/**
 * The simulator at --url, else at the configured address; when none answers there (and no --url
 * was given), one is started on the configuration for this command and stopped after it.
 */
export async function connect(config: SimConfig, options: ConnectOptions, io: CliOutput): Promise<SimulatorClient> {
  const configured = config.users.find((u) => u.username === (options.user ?? config.users[0]?.username));
  const user = options.user ?? configured?.username ?? 'client1';
  const password = options.password ?? configured?.password;
  if (password === undefined) throw new CliError(`user ${user} is not in the configuration: pass --password`);
  const url = (options.url ?? reachableUrl(config.server.host, config.server.port)).replace(/\/+$/, '');
  if (await answers(url)) return new SimulatorClient(url, user, password, null);
  if (options.url) throw new CliError(`no em-sim answers at ${url}: start one with \`npx em-sim start\`, or leave out --url to have this command start one`);
  io.err(`em-sim: no simulator answers at ${url}; starting one for this command (data directory ${config.data_dir})`);
  let running: RunningSimulator;
  try {
    running = await startServer(config, { logger: createLogger(config.log.level === 'debug' ? 'debug' : 'error') });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    throw new CliError(`${url} is taken by something that is not em-sim: point --url at a running em-sim, or give server.port another port in the configuration (--config)`);
  }
  return new SimulatorClient(running.url, user, password, running);
}

// ---- run ----

export interface RunOptions extends ConnectOptions {
  files?: string;
  json?: boolean;
}

const TERMINAL = new Set(['COMPLETED', 'FAILED', 'KILLED']);
const ENDED = new Set(['SUCCESS', 'FAILED', 'KILLED', 'SKIPPED']);

/**
 * `operation run FILE`: checks the file, uploads the uplinks' sources from the files folder into
 * the namespace (when they changed), executes it, follows it, writes the downlinked files into
 * the folder. Returns the exit code: 0 COMPLETED, 1 FAILED (or invalid), 130 interrupted.
 */
export async function runOperation(file: string, config: SimConfig, options: RunOptions, io: CliOutput): Promise<number> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${file}: ${(err as Error).message}`);
  }
  const fileName = path.basename(file);
  const checked = operationChecker(config)(text, fileName);
  const say = options.json ? io.err : io.out;
  const sayIsTty = options.json ? io.errIsTty : io.outIsTty;
  for (const w of checked.warnings) io.err(formatProblem(file, w, 'warning'));
  if (!checked.operation) {
    for (const e of checked.errors) io.err(formatProblem(file, e, 'error'));
    io.err(`em-sim: ${file} has ${checked.errors.length} error${checked.errors.length === 1 ? '' : 's'}; nothing was run`);
    return 1;
  }
  const op = checked.operation;
  const filesDir = path.resolve(options.files ?? path.dirname(file));
  if (options.files !== undefined && !existsSync(filesDir)) mkdirSync(filesDir, { recursive: true });
  if (!statSync(filesDir).isDirectory()) throw new CliError(`--files ${filesDir} is not a folder`);

  const client = await connect(config, options, io);
  let interrupted = false;
  let executionId: string | null = null;
  const onSigint = () => {
    if (interrupted) {
      // A second Ctrl-C does not wait for the kill to finish.
      io.err('em-sim: interrupted again; leaving without waiting (the execution is being killed)');
      process.exit(130);
    }
    interrupted = true;
    io.err('em-sim: interrupted; killing the execution (a running pod gets SIGTERM, then SIGKILL after 10 s; Ctrl-C again to leave at once)');
    sendKill();
  };
  const sendKill = () => {
    if (executionId) void client.fetch(`/sim/executions/${executionId}/kill`, { method: 'POST' }).catch(() => {});
  };
  process.on('SIGINT', onSigint);
  try {
    await uploadSources(client, op.namespace, op.tasks.flatMap((t) => (t.type === 'dphi.space.cg2.uplink' ? t.source : [])), filesDir, say);
    if (interrupted) return 130;
    const res = await client.fetch(`/sim/executions?file=${encodeURIComponent(fileName)}`, { method: 'POST', headers: { 'Content-Type': 'application/yaml' }, body: text });
    const submitted = (await res.json()) as ExecutionRecord & { error?: string; message?: string };
    if (res.status === 400 && submitted.error === 'INVALID_OPERATION') {
      for (const e of (submitted.errors as unknown as OperationProblem[]) ?? []) io.err(formatProblem(file, e, "error"));
      return 1;
    }
    if (!res.ok) throw new CliError(`the simulator refused the operation: ${res.status} ${submitted.error}: ${submitted.message}`);
    executionId = submitted.id;
    if (interrupted) sendKill();
    say(`em-sim: execution ${submitted.id} of ${op.namespace} / ${op.id} (revision ${submitted.revision}) on ${client.url}`);
    const view = await LiveView.open(say, sayIsTty, options.json ? process.stderr : process.stdout);
    let record: ExecutionRecord = submitted;
    for (;;) {
      view.render(record);
      if (TERMINAL.has(record.state)) break;
      await new Promise((r) => setTimeout(r, 300));
      record = await client.json<ExecutionRecord>(`/sim/executions/${submitted.id}`);
    }
    view.done();
    const { written, failed } = await downloadResults(client, record, filesDir);
    if (options.json) io.out(JSON.stringify(record, null, 2));
    summary(record, written, filesDir, say);
    for (const line of failed) io.err(`em-sim: could not write ${line}`);
    if (interrupted) return 130;
    return record.state === 'COMPLETED' && !failed.length ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
    await client.close();
  }
}

/** The uplinks' sources: each one in the files folder is uploaded when the namespace's latest version differs. */
async function uploadSources(client: SimulatorClient, namespace: string, sources: string[], filesDir: string, say: (line: string) => void): Promise<void> {
  if (!sources.length) return;
  const listing = await client.json<{ data: { path: string; sha256: string; version: number }[] }>(`/sim/namespaces/${encodeURIComponent(namespace)}/files`);
  const latest = new Map(listing.data.map((f) => [f.path, f]));
  const root = realpathSync(filesDir);
  for (const source of [...new Set(sources)]) {
    const local = path.join(filesDir, source);
    if (!existsSync(local)) {
      say(`em-sim: ${source} is not in ${filesDir}; ${latest.has(source) ? `the namespace's version ${latest.get(source)!.version} is used` : 'the namespace has none either'}`);
      continue;
    }
    const real = realpathSync(local);
    if (real !== root && !real.startsWith(`${root}${path.sep}`)) throw new CliError(`${source} leads outside ${filesDir} (${real}); keep uplinked files inside the files folder`);
    if (!statSync(real).isFile()) throw new CliError(`${local} is not a file`);
    const sha = createHash('sha256');
    await pipeline(createReadStream(real), sha);
    const digest = sha.digest('hex');
    if (latest.get(source)?.sha256 === digest) continue;
    const res = await client.fetch(`/sim/namespaces/${encodeURIComponent(namespace)}/files?path=${encodeURIComponent(source)}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Length': String(statSync(real).size) },
      body: Readable.toWeb(createReadStream(real)) as ReadableStream,
      duplex: 'half',
    } as RequestInit);
    const body = (await res.json()) as { version?: number; error?: string; message?: string };
    if (!res.ok) throw new CliError(`uploading ${source} to namespace ${namespace} failed: ${body.error}: ${body.message}`);
    say(`em-sim: ${source} → namespace ${namespace} (version ${body.version})`);
  }
}

/**
 * Writes every file the downlinks brought into the namespace into the files folder, whole or not
 * at all. Folders are made one level at a time and never through a link that leads out of the
 * folder. Returns what was written and what could not be (with why).
 */
async function downloadResults(client: SimulatorClient, record: ExecutionRecord, filesDir: string): Promise<{ written: string[]; failed: string[] }> {
  const written: string[] = [];
  const failed: string[] = [];
  const root = realpathSync(filesDir);
  for (const task of record.tasks) {
    if (task.type !== 'dphi.space.cg2.downlink' || task.state !== 'SUCCESS') continue;
    for (const f of (task.outputs.files as { path: string; version: number }[] | undefined) ?? []) {
      try {
        const folder = insideFolder(root, path.dirname(f.path).split('/').filter(Boolean));
        const target = path.join(folder, path.basename(f.path));
        const res = await client.fetch(`/sim/namespaces/${encodeURIComponent(record.namespace)}/files/content?path=${encodeURIComponent(f.path)}&version=${f.version}`);
        if (!res.ok || !res.body) throw new Error(`the simulator answered HTTP ${res.status}`);
        const temp = `${target}.em-sim-${process.pid}.part`;
        try {
          await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream), createWriteStream(temp, { flags: 'wx' }));
          // rename replaces a link at the target itself, never what it points to.
          renameSync(temp, target);
        } catch (err) {
          rmSync(temp, { force: true });
          throw err;
        }
        written.push(f.path);
      } catch (err) {
        failed.push(`${f.path}: ${(err as Error).message}`);
      }
    }
  }
  return { written, failed };
}

/** The folder `segments` below root, made where missing; throws when one is a link out of root or not a folder. */
function insideFolder(root: string, segments: string[]): string {
  let current = root;
  for (const segment of segments) {
    const next = path.join(current, segment);
    if (!existsSync(next)) mkdirSync(next);
    const real = realpathSync(next);
    if (real !== root && !real.startsWith(`${root}${path.sep}`)) throw new Error(`${next} leads outside ${root} (to ${real}); nothing was written through it`);
    if (!statSync(real).isDirectory()) throw new Error(`${next} is a file, where a folder is needed`);
    current = real;
  }
  return current;
}

const MARK: Record<string, string> = { CREATED: '·', SCHEDULED: '…', RUNNING: '▶', SUCCESS: '✓', FAILED: '✘', KILLED: '✘', SKIPPED: '-' };

/** A task's duration: its recorded one once ended; while it runs, counted here from when this view first saw it start. */
function duration(task: TaskRunRecord, seenStarting: number | undefined): string {
  if (task.duration_s !== null) return `${task.duration_s.toFixed(2)}s`;
  if (seenStarting !== undefined) return `${((Date.now() - seenStarting) / 1000).toFixed(1)}s`;
  return '';
}

/**
 * While an execution runs: on a terminal, one line per task (state, duration, last log line),
 * redrawn in place (log-update); otherwise a plain line per state change and log line.
 */
class LiveView {
  private readonly seenLogs = new Map<string, number>();
  private readonly seenStarting = new Map<string, number>();

  private constructor(
    private readonly say: (line: string) => void,
    private readonly stream: NodeJS.WriteStream,
    private readonly update: ReturnType<typeof createLogUpdate> | null,
  ) {}

  /**
   * A view on `stream`: redrawn in place on a terminal that reports its width (some `script`
   * sessions report none and get plain lines). log-update is loaded only then: its string-width
   * builds Unicode regexes and a segmenter (about 40 ms) that every other command and start
   * would pay for nothing.
   */
  static async open(say: (line: string) => void, tty: boolean, stream: NodeJS.WriteStream): Promise<LiveView> {
    if (!tty || (stream.columns ?? 0) <= 0) return new LiveView(say, stream, null);
    const { createLogUpdate } = await import('log-update');
    return new LiveView(say, stream, createLogUpdate(stream));
  }

  render(record: ExecutionRecord): void {
    for (const t of record.tasks) {
      if ((t.state === 'SCHEDULED' || t.state === 'RUNNING') && !this.seenStarting.has(t.id)) this.seenStarting.set(t.id, Date.now());
    }
    if (this.update) {
      const width = Math.max(...record.tasks.map((t) => t.id.length));
      const room = Math.max(20, (this.stream.columns ?? 120) - width - 26);
      const lines = record.tasks.map((t) => {
        const last = t.logs[t.logs.length - 1]?.message ?? '';
        return `${MARK[t.state] ?? ' '} ${t.id.padEnd(width)}  ${t.state.padEnd(9)} ${duration(t, this.seenStarting.get(t.id)).padStart(8)}  ${last.slice(0, room)}`;
      });
      this.update([`${record.state}`, ...lines].join('\n'));
      return;
    }
    for (const t of record.tasks) {
      // Every state the task went through (also those between two polls) and every log line, in time order.
      const events = [
        ...t.state_history.slice(1).map((h, i) => ({ at: h.date, order: ENDED.has(h.state) ? 2 : 0, index: i, line: `[${t.id}] ${h.state}${h.state === t.state && t.duration_s !== null ? ` (${t.duration_s.toFixed(2)} s)` : ''}` })),
        ...t.logs.map((l, i) => ({ at: l.time, order: 1, index: i, line: `[${t.id}] ${l.level} ${l.message}` })),
      ].sort((a, b) => a.at.localeCompare(b.at) || a.order - b.order || a.index - b.index);
      const shown = this.seenLogs.get(t.id) ?? 0;
      for (const e of events.slice(shown)) this.say(e.line);
      this.seenLogs.set(t.id, events.length);
    }
  }

  done(): void {
    this.update?.done();
  }
}

function summary(record: ExecutionRecord, written: string[], filesDir: string, say: (line: string) => void): void {
  const counts = new Map<string, number>();
  for (const t of record.tasks) counts.set(t.state, (counts.get(t.state) ?? 0) + 1);
  const took = record.started && record.ended ? ` in ${((Date.parse(record.ended) - Date.parse(record.started)) / 1000).toFixed(2)} s` : '';
  say(`em-sim: execution ${record.id} ${record.state}${took}: ${[...counts].map(([s, n]) => `${n} ${s}`).join(', ')}`);
  for (const e of record.errors) say(`  ${e.code} | ${e.name} | ${e.message}`);
  for (const p of written) say(`  downlinked ${p} → ${path.join(filesDir, p)}`);
}

// ---- list, show ----

/** `operation list`: the user's executions, newest first. */
export async function listExecutions(config: SimConfig, options: ConnectOptions & { json?: boolean }, io: CliOutput): Promise<number> {
  const client = await connect(config, options, io);
  try {
    const { data } = await client.json<{ data: { id: string; namespace: string; operation: string; revision: number; state: string; started: string | null; ended: string | null; tasks: number; failed_tasks: string[] }[] }>('/sim/executions');
    if (options.json) {
      io.out(JSON.stringify(data, null, 2));
      return 0;
    }
    if (!data.length) io.out('no executions yet: run one with `npx em-sim operation run FILE`');
    for (const e of data) {
      io.out(`${e.id}  ${e.state.padEnd(9)}  ${`${e.namespace} / ${e.operation}`.padEnd(30)}  rev ${e.revision}  ${e.started ?? '-'}  ${e.tasks} tasks${e.failed_tasks.length ? `, failed: ${e.failed_tasks.join(', ')}` : ''}`);
    }
    return 0;
  } finally {
    await client.close();
  }
}

/** An execution id from a unique prefix of one (as `operation list` prints ids), else the id as given. */
async function resolveId(client: SimulatorClient, id: string): Promise<string> {
  if (/^[0-9a-f-]{36}$/.test(id)) return id;
  const { data } = await client.json<{ data: { id: string }[] }>('/sim/executions?limit=1000');
  const matches = data.filter((e) => e.id.startsWith(id));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new CliError(`${id} is the start of ${matches.length} executions' ids; give more of it (see \`em-sim operation list\`)`);
  throw new CliError(`no execution of yours has an id starting "${id}"; list yours with \`em-sim operation list\``);
}

/** `operation show ID`: an execution's record, as text or JSON. */
export async function showExecution(id: string, config: SimConfig, options: ConnectOptions & { json?: boolean }, io: CliOutput): Promise<number> {
  const client = await connect(config, options, io);
  try {
    const full = await resolveId(client, id);
    const res = await client.fetch(`/sim/executions/${encodeURIComponent(full)}`);
    const body = (await res.json()) as ExecutionRecord & { error?: string; message?: string };
    if (!res.ok) throw new CliError(`${body.error}: ${body.message}`);
    if (options.json) {
      io.out(JSON.stringify(body, null, 2));
      return 0;
    }
    io.out(`${body.namespace} / ${body.operation} / ${body.id}   revision ${body.revision}`);
    io.out(`state ${body.state}; started ${body.started ?? '-'}; ended ${body.ended ?? '-'}`);
    io.out(`history: ${body.state_history.map((h) => `${h.state} ${h.date}`).join(' → ')}`);
    if (Object.keys(body.labels).length) io.out(`labels: ${Object.entries(body.labels).map(([k, v]) => `${k}=${v}`).join(', ')}`);
    for (const e of body.errors) io.out(`error: ${e.code} | ${e.name} | ${e.message}`);
    for (const t of body.tasks) {
      io.out('');
      io.out(`${MARK[t.state] ?? ' '} ${t.id} (${t.type}) ${t.state}${t.duration_s !== null ? ` in ${t.duration_s.toFixed(2)} s` : ''}`);
      for (const e of t.errors) io.out(`    ${e.code} | ${e.name} | ${e.message}`);
      if (Object.keys(t.outputs).length) io.out(`    outputs: ${JSON.stringify(t.outputs).slice(0, 400)}`);
      for (const l of t.logs) io.out(`    ${l.time} ${l.level} ${l.message}`);
    }
    return 0;
  } finally {
    await client.close();
  }
}
