import { PassThrough, type Readable } from 'node:stream';
import type { EngineStatus } from '../engine-status.ts';
import { SimError } from '../errors.ts';
import type { FileService } from '../files/file-service.ts';
import type { TreeNode } from '../files/file-tree.ts';
import type { ImageService } from '../images/image-service.ts';
import { DEADLINE_MESSAGE, type PodService } from '../pods/pod-service.ts';
import { DEFAULT_POD } from '../pods/pod-names.ts';
import type { BlobStore, WrittenBlob } from '../ports/blob-store.ts';
import type { Clock } from '../ports/clock.ts';
import type { NewNamespaceFile, OperationStore, TaskEnd } from '../ports/operation-store.ts';
import type { VolumeRef } from '../ports/volume-store.ts';
import { parseVolumePath } from '../volumes/volume-path.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import { taskError, type LogLevel, type TaskArtifact, type TaskRunState } from './execution.ts';
import type { NamespaceFiles } from './namespace-files.ts';
import type { BuildTask, DownlinkTask, FilesListTask, ImageListTask, PodRunTask, Task, UplinkTask } from './operation.ts';

/*
 * What each of the six task types does (operations-decisions.md, "The six task types"), on the
 * same services the EM API uses: volumes, files, images, pods, the clock.
 */

/** Why a task stopped early: the user killed the execution, or the simulator is closing (the task resumes at the next start). */
export type StopReason = 'kill' | 'close';

/** The simulator is closing: the task is left as it is, to be resumed. */
export class Interrupted extends Error {
  override name = 'Interrupted';
}

/** What a task run is given. */
export interface TaskContext {
  username: string;
  namespace: string;
  executionId: string;
  position: number;
  task: Task;
  /** Set when the task was already under way before a restart. */
  resumed: boolean;
  /** What the task recorded before a restart (a pod run's generation). */
  progress: Record<string, unknown>;
  setProgress(progress: Record<string, unknown>): void;
  /** Moves the task run to RUNNING (once). */
  running(): void;
  log(level: LogLevel, message: string): void;
  signal: AbortSignal;
}

/** How a task ended. */
export interface TaskOutcome {
  state: Extract<TaskRunState, 'SUCCESS' | 'FAILED' | 'KILLED'>;
  end: TaskEnd;
}

/** What the runners use. */
export interface TaskRunnerDeps {
  files: FileService;
  volumes: VolumeService;
  images: ImageService;
  pods: PodService;
  engine: EngineStatus;
  namespaces: NamespaceFiles;
  store: OperationStore;
  blobs: BlobStore;
  clock: Clock;
  /** Seconds of simulated time a downlink waits for a file that is not there yet (the dashboard fails after 60). */
  downlinkWaitSeconds: number;
  /** Real milliseconds between two looks at a pod. */
  pollMs: number;
}

const POD_LOG_LINES = 20;

/** Runs one task to its end. Throws Interrupted when the simulator closes meanwhile. */
export async function runTask(ctx: TaskContext, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  for (const warning of ctx.task.warnings) ctx.log('WARN', warning);
  try {
    switch (ctx.task.type) {
      case 'dphi.space.cg2.uplink':
        return await uplink(ctx, ctx.task, deps);
      case 'dphi.space.cg2.downlink':
        return await downlink(ctx, ctx.task, deps);
      case 'dphi.space.cg2.files.list':
        return await filesList(ctx, ctx.task, deps);
      case 'dphi.space.cg2.pod.run':
        return await podRun(ctx, ctx.task, deps);
      case 'dphi.space.cg2.docker.build':
        return await build(ctx, ctx.task, deps);
      case 'dphi.space.cg2.docker.image.list':
        return await imageList(ctx, ctx.task, deps);
    }
  } catch (err) {
    if (err instanceof Interrupted) throw err;
    if (ctx.signal.aborted && ctx.signal.reason === 'close') throw new Interrupted('closing');
    if (ctx.signal.aborted) return killed(ctx);
    const message = (err as Error).message;
    ctx.log('ERROR', message);
    return failed(message, { status: false, message });
  }
}

function failed(message: string, outputs: Record<string, unknown>, name: 'EXECUTION_ERROR' | 'TIMEOUT' = 'EXECUTION_ERROR'): TaskOutcome {
  return { state: 'FAILED', end: { outputs, errors: [taskError(name, message)] } };
}

function killed(ctx: TaskContext): TaskOutcome {
  ctx.log('WARN', 'The execution was killed');
  return { state: 'KILLED', end: { errors: [taskError('KILLED', 'The execution was killed while this task ran')] } };
}

/** Stops waiting when the execution is killed (KILLED) or the simulator closes (Interrupted). */
function checkSignal(ctx: TaskContext): void {
  if (!ctx.signal.aborted) return;
  if (ctx.signal.reason === 'close') throw new Interrupted('closing');
  throw new Killed();
}

class Killed extends Error {
  override name = 'Killed';
}

/** Waits `ms` of simulated time, or less when the execution is stopped. */
export function sleepSimulated(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const cancel = clock.at(clock.now() + ms, done);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      cancel();
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function sleepReal(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** `volume` omitted or `<username>-pvc` is the user's default volume; any other name is that PVC. */
export function volumeOf(deps: TaskRunnerDeps, username: string, volume: string | undefined): VolumeRef {
  const name = volume === undefined || volume === `${username}-pvc` ? DEFAULT_POD : volume;
  return deps.volumes.ref(username, name);
}

function volumeLabel(username: string, volume: string | undefined): string {
  return volume === undefined ? `${username}-pvc` : volume;
}

function lastName(path: string): string {
  return path.split('/').filter(Boolean).pop() ?? path;
}

// ---- uplink: namespace → volume ----

async function uplink(ctx: TaskContext, task: UplinkTask, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  ctx.running();
  const found = task.source.map((path) => ({ path, file: deps.store.namespaceFile(ctx.username, ctx.namespace, path) }));
  const missing = found.filter((f) => !f.file).map((f) => f.path);
  if (missing.length) {
    const message = `File not found: ${missing.map(lastName).join(', ')}`;
    ctx.log('ERROR', `${message} (namespace "${ctx.namespace}" has no ${missing.join(', ')}; upload it, or run with --files DIR)`);
    return failed(message, { status: false, message });
  }
  const ref = volumeOf(deps, ctx.username, task.volume);
  const session = deps.files.beginUplink();
  try {
    for (const { path, file } of found) {
      ctx.log('INFO', `Uplinking ${path} (version ${file!.version}, ${file!.size} bytes)`);
      await session.receive(lastName(path), deps.blobs.open(file!.blob));
      checkSignal(ctx);
    }
    session.commit(ref, task.destination);
  } catch (err) {
    await session.abort();
    if (err instanceof Killed) return killed(ctx);
    throw err;
  }
  const message = `Uplinked ${found.length} file${found.length === 1 ? '' : 's'} to ${task.destination} in volume ${volumeLabel(ctx.username, task.volume)}`;
  ctx.log('INFO', message);
  return { state: 'SUCCESS', end: { outputs: { status: true, message } } };
}

// ---- downlink: volume → namespace ----

async function downlink(ctx: TaskContext, task: DownlinkTask, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  ctx.running();
  const ref = volumeOf(deps, ctx.username, task.volume);
  const targets = task.source.map((source) => ({ source, path: `${task.destination === '/' ? '' : task.destination}/${lastName(source)}` }));
  const waitUntil = deps.clock.now() + deps.downlinkWaitSeconds * 1000;
  let opened: ReturnType<FileService['openForDownlink']>[] = [];
  let told = false;
  for (;;) {
    opened = [];
    const missing: string[] = [];
    for (const t of targets) {
      try {
        opened.push(deps.files.openForDownlink(ref, t.source));
      } catch (err) {
        if (err instanceof SimError && err.code === 'FILE_NOT_FOUND') missing.push(t.source);
        else {
          for (const f of opened) f.close();
          throw err;
        }
      }
    }
    if (!missing.length) break;
    for (const f of opened) f.close();
    const left = waitUntil - deps.clock.now();
    if (left <= 0) {
      const message = `File not found: ${missing.join(', ')}`;
      ctx.log('ERROR', `${message} (not in volume ${volumeLabel(ctx.username, task.volume)} after ${deps.downlinkWaitSeconds} s)`);
      return failed(message, { files: [] });
    }
    if (!told) ctx.log('INFO', `Waiting up to ${deps.downlinkWaitSeconds} s for ${missing.join(', ')} to appear in the volume`);
    told = true;
    await sleepSimulated(deps.clock, Math.min(1000, left), ctx.signal);
    checkSignal(ctx);
  }
  const written: WrittenBlob[] = [];
  try {
    for (const [i, file] of opened.entries()) {
      ctx.log('INFO', `Downlinking ${targets[i]!.source} (${file.size} bytes) to ${targets[i]!.path}`);
      written.push(await deps.blobs.write(file.stream()));
      checkSignal(ctx);
    }
    const zip = { entries: targets.map((t, i) => ({ name: lastName(t.path), blob: written[i]!.key })), mtime: deps.clock.now() };
    // The zip is made again on each request from the files' own bytes: here only its length.
    let size = 0;
    for await (const chunk of zipStream(deps.blobs, zip) as AsyncIterable<Buffer>) size += chunk.length;
    const files: NewNamespaceFile[] = targets.map((t, i) => ({ path: t.path, size: written[i]!.size, sha256: written[i]!.sha256, blob: written[i]!.key }));
    const artifact: TaskArtifact = { zip, contentType: 'application/zip', size, fileName: `${task.id}.zip` };
    return {
      state: 'SUCCESS',
      end: {
        outputs: { files: files.map((f) => ({ path: f.path })), uri: artifactUri(ctx), contentType: 'application/zip', contentLength: size },
        artifact,
        files: { username: ctx.username, namespace: ctx.namespace, files },
      },
    };
  } catch (err) {
    for (const f of opened) f.close();
    for (const w of written) await deps.blobs.remove(w.key);
    if (err instanceof Killed) return killed(ctx);
    throw err;
  }
}

/** Where a task's `uri` output can be fetched (GET, with the user's token). */
export function artifactUri(ctx: Pick<TaskContext, 'executionId' | 'task'>): string {
  return `/sim/executions/${ctx.executionId}/tasks/${encodeURIComponent(ctx.task.id)}/artifact`;
}

/**
 * A STORED zip of blobs, as a stream (fflate's streaming Zip, one entry at a time, with
 * backpressure; fflate is loaded on first use). The same entries and time give the same bytes, so its length can be counted once
 * and the zip made again on each request.
 */
export function zipStream(blobs: BlobStore, zip: NonNullable<TaskArtifact['zip']>): Readable {
  const out = new PassThrough();
  void (async () => {
    // fflate on first use: its tables take about 20 ms to build, which every start paid.
    const { Zip, ZipPassThrough } = await import('fflate');
    const archive = new Zip((err, chunk, final) => {
      if (err) out.destroy(err);
      else {
        out.write(chunk);
        if (final) out.end();
      }
    });
    for (const entry of zip.entries) {
      const file = new ZipPassThrough(entry.name);
      file.mtime = zip.mtime;
      archive.add(file);
      for await (const chunk of blobs.open(entry.blob) as AsyncIterable<Buffer>) {
        file.push(chunk);
        if (out.writableNeedDrain) await new Promise((resolve) => out.once('drain', resolve));
      }
      file.push(new Uint8Array(0), true);
    }
    archive.end();
  })().catch((err: unknown) => out.destroy(err as Error));
  return out;
}

async function jsonArtifact(ctx: TaskContext, deps: TaskRunnerDeps, value: unknown): Promise<{ artifact: TaskArtifact; size: number }> {
  const written = await deps.blobs.write(Buffer.from(JSON.stringify(value, null, 2)));
  return { artifact: { blob: written.key, contentType: 'application/json', size: written.size, fileName: `${ctx.task.id}.json` }, size: written.size };
}

// ---- files.list ----

/** A listing node for outputs: the hash as a decimal string (JSON has no 64-bit integers). */
type OutputNode = Omit<TreeNode, 'hash' | 'contents'> & { hash?: string; contents?: OutputNode[] };

async function filesList(ctx: TaskContext, task: FilesListTask, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  ctx.running();
  const ref = volumeOf(deps, ctx.username, task.volume);
  let entries = await deps.files.list(ref);
  for (const segment of parseVolumePath(task.folder, 'folder')) {
    const next = entries.find((e) => e.name === segment);
    if (!next || next.type !== 'directory') {
      const message = `Folder not found: ${task.folder}`;
      ctx.log('ERROR', `${message} (in volume ${volumeLabel(ctx.username, task.volume)})`);
      return failed(message, { files: [] });
    }
    entries = next.contents;
  }
  const cut = (nodes: TreeNode[], depth: number): OutputNode[] =>
    nodes.map((n) =>
      n.type === 'file'
        ? { type: 'file', name: n.name, size: n.size, time: n.time, hash: n.hash.toString() }
        : { type: 'directory', name: n.name, size: n.size, time: n.time, ...(depth > 1 ? { contents: cut(n.contents, depth - 1) } : {}) },
    );
  const files = cut(entries, task.depth);
  const { artifact, size } = await jsonArtifact(ctx, deps, files);
  ctx.log('INFO', `Listed ${task.folder} of volume ${volumeLabel(ctx.username, task.volume)} to depth ${task.depth}: ${entries.length} entries`);
  return { state: 'SUCCESS', end: { outputs: { files, uri: artifactUri(ctx), contentType: 'application/json', contentLength: size }, artifact } };
}

// ---- docker.image.list ----

async function imageList(ctx: TaskContext, _task: ImageListTask, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  ctx.running();
  await deps.engine.require();
  const images = (await deps.images.list(ctx.username)).map((i) => ({ repository: i.name, tag: i.tag, id: i.id, created: i.created, size: i.size }));
  const { artifact, size } = await jsonArtifact(ctx, deps, images);
  ctx.log('INFO', `${images.length} images can be run`);
  return { state: 'SUCCESS', end: { outputs: { images, uri: artifactUri(ctx), contentLength: size }, artifact } };
}

// ---- docker.build ----

async function build(ctx: TaskContext, task: BuildTask, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  ctx.running();
  await deps.engine.require();
  const ref = volumeOf(deps, ctx.username, task.volume);
  ctx.log('INFO', `Building ${task.image} from ${task.dockerfile} (context ${task.context}) in volume ${volumeLabel(ctx.username, task.volume)}`);
  try {
    await deps.images.build(ref, task.dockerfile, task.context, task.image);
  } catch (err) {
    if (!(err instanceof SimError)) throw err;
    const tail = err.extra.log_tail ?? [];
    for (const line of tail.slice(-10)) ctx.log('ERROR', line.replace(/\n$/, ''));
    const last = tail.map((l) => l.trim()).filter(Boolean).pop();
    const message = `${err.message}${last ? `: ${last}` : ''}`;
    return failed(message, { status: 'FAILED', message: err.message, ...(tail.length ? { log_tail: tail } : {}) });
  }
  const message = `Successfully built ${task.image}`;
  ctx.log('INFO', message);
  return { state: 'SUCCESS', end: { outputs: { status: 'SUCCESS', message, image: task.image } } };
}

// ---- pod.run ----

async function podRun(ctx: TaskContext, task: PodRunTask, deps: TaskRunnerDeps): Promise<TaskOutcome> {
  await deps.engine.require();
  const pod = task.podName ?? DEFAULT_POD;
  let generation = ctx.progress.generation as number | undefined;
  if (generation === undefined && typeof ctx.progress.before === 'number') {
    // A restart between recording the run and remembering its generation: a newer run of the
    // pod is this one (the run is never repeated).
    const current = await deps.pods.current(ctx.username, pod);
    if (current && current.generation > ctx.progress.before) generation = current.generation;
  }
  if (generation === undefined) {
    const before = (await deps.pods.current(ctx.username, pod))?.generation ?? 0;
    ctx.setProgress({ before });
    const volume = volumeOf(deps, ctx.username, task.volume).name;
    ({ generation } = await deps.pods.run(ctx.username, {
      image: task.image,
      node: task.node,
      maxDuration: Math.max(1, Math.ceil(task.maxDurationSeconds / 60)),
      maxDurationSeconds: task.maxDurationSeconds,
      ...(task.scheduledTime ? { scheduledTime: task.scheduledTime } : {}),
      ...(task.command ? { commandWords: task.command } : {}),
      ...(task.args ? { args: task.args } : {}),
      envs: task.env,
      podName: pod,
      volume,
      ...(task.ports.length ? { ports: task.ports.map((p) => p.container), namespace: true } : {}),
    }));
    ctx.setProgress({ before, generation });
    ctx.log('INFO', `Pod ${pod} submitted: ${task.image} on node ${task.node}, volume ${volumeLabel(ctx.username, task.volume)} at /data, max duration ${task.maxDurationSeconds} s`);
  } else {
    ctx.log('INFO', `Following pod ${pod} (run ${generation}) again after a restart`);
  }
  let lastWaiting = '';
  for (;;) {
    const current = await deps.pods.current(ctx.username, pod);
    if (!current || current.generation !== generation) {
      return failed(`Pod ${pod} was replaced by another run of the same pod_name before it ended`, { status: false, message: 'replaced' });
    }
    if (ctx.signal.aborted) {
      if (ctx.signal.reason === 'close') throw new Interrupted('closing');
      await deps.pods.stop(ctx.username, pod, generation, 'The execution was killed');
      const after = await deps.pods.current(ctx.username, pod);
      if (after?.phase === 'terminated' || after?.generation !== generation) return killed(ctx);
      await sleepReal(deps.pollMs, AbortSignal.timeout(deps.pollMs));
      continue;
    }
    const state = current.state;
    if ('waiting' in state) {
      if (current.phase === 'waiting') {
        // The image cannot be pulled, or the container cannot be made: Kubernetes would back off forever.
        const reason = state.waiting.reason === 'ErrImagePull' ? 'ImagePullBackOff' : state.waiting.reason;
        const message = `${reason}: ${state.waiting.message}`;
        ctx.log('ERROR', message);
        await deps.pods.stop(ctx.username, pod, generation, message);
        return failed(message, { status: false, message, exitCode: null, reason });
      }
      // ContainerCreating may come without a message: the reason alone, then.
      const line = state.waiting.message ? `${state.waiting.reason}: ${state.waiting.message}` : state.waiting.reason;
      if (line !== lastWaiting) ctx.log('INFO', line);
      lastWaiting = line;
    } else {
      ctx.running();
    }
    if ('terminated' in state) {
      const t = state.terminated;
      await podOutput(ctx, deps, pod);
      if (t.reason === 'Completed') {
        const message = `Pod ${pod} completed (exit code 0)`;
        ctx.log('INFO', message);
        return { state: 'SUCCESS', end: { outputs: { status: true, message, exitCode: 0, reason: 'Completed' } } };
      }
      const timeout = t.message === DEADLINE_MESSAGE;
      const message = `${timeout ? 'DeadlineExceeded' : t.reason}: ${t.message ? `${t.message} (exit code ${t.exitCode})` : `exit code ${t.exitCode}`}`;
      ctx.log('ERROR', message);
      return failed(message, { status: false, message, exitCode: t.exitCode, reason: timeout ? 'DeadlineExceeded' : t.reason }, timeout ? 'TIMEOUT' : 'EXECUTION_ERROR');
    }
    await sleepReal(deps.pollMs, ctx.signal);
  }
}

/** The end of what the pod printed, in the task log (simulator only: CG2 keeps no pod output). */
async function podOutput(ctx: TaskContext, deps: TaskRunnerDeps, pod: string): Promise<void> {
  try {
    const { stdout, stderr } = await deps.pods.logs(ctx.username, pod);
    const lines = (text: string) => text.split('\n').filter((l) => l.length).slice(-POD_LOG_LINES);
    for (const line of lines(stdout)) ctx.log('DEBUG', `[em-sim only: CG2 keeps no pod output] stdout: ${line}`);
    for (const line of lines(stderr)) ctx.log('DEBUG', `[em-sim only: CG2 keeps no pod output] stderr: ${line}`);
  } catch {
    // The output is a courtesy of the simulator; a pod without any is no failure.
  }
}
