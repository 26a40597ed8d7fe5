import type { Readable } from 'node:stream';
import { DEFAULT_CATALOG } from '../../src/config/schema.ts';
import type { Clock } from '../../src/domain/clock.ts';
import {
  EngineLogFailure,
  StartFailure,
  type BuildRequest,
  type ContainerRuntime,
  type ContainerSpec,
  type ContainerState,
  type ImageInfo,
  type ManagedContainer,
} from '../../src/domain/runtime.ts';

/** One call of run(), in call order, stamped with the simulated time it happened at. */
export interface RunRecord {
  at: number;
  id: string;
  name: string;
  spec: ContainerSpec;
}

export interface StopRecord {
  at: number;
  id: string;
  name: string;
  graceSeconds: number;
}

/** What a container does once run: exit after some simulated time, or refuse to start. */
export interface Script {
  exitAfterMs?: number;
  exitCode?: number;
  oomKilled?: boolean;
  stdout?: string;
  fail?: { message: string; atStart: boolean };
}

interface FakeContainer {
  id: string;
  name: string;
  spec: ContainerSpec;
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
  startedAt: string | null;
  finishedAt: string | null;
  error: string | null;
  stdout: string;
  cancelExit: (() => void) | null;
}

// What a container stopped with SIGTERM exits with (128 + 15), as a shell would.
const SIGTERM_EXIT = 143;

/**
 * An in-memory ContainerRuntime for scheduling tests: containers "run" until stopped, removed
 * or a scripted exit, and every run/stop is recorded. Engine timestamps are real time, as a
 * real engine's are (PodService maps them onto the simulated clock); records carry simulated
 * time, from `clock` once the test binds it (see bindClock), else from Date.now().
 */
export class FakeRuntime implements ContainerRuntime {
  readonly runs: RunRecord[] = [];
  readonly stops: StopRecord[] = [];
  readonly removed: string[] = [];
  readonly networks = new Set<string>();
  /** Whether the "engine" answers; toggle to simulate it going away. */
  isAvailable = true;
  /** Decides what each new container does; default: runs until stopped. */
  script: (spec: ContainerSpec) => Script | void = () => {};

  private clock: Pick<Clock, 'now' | 'at'> | null = null;
  private readonly containers = new Map<string, FakeContainer>();
  private readonly images = new Map<string, ImageInfo>();
  private readonly listeners = new Set<{ filter: string[]; fn: (id: string) => void }>();
  private nextId = 1;

  constructor(options: { images?: string[] } = {}) {
    for (const ref of options.images ?? DEFAULT_CATALOG) this.addImage(ref);
  }

  /** The simulator's clock exists only once it started; bind it then. */
  bindClock(clock: Pick<Clock, 'now' | 'at'>): void {
    this.clock = clock;
  }

  addImage(ref: string, labels: Record<string, string> = {}): ImageInfo {
    const tag = normalize(ref);
    const info: ImageInfo = {
      id: `sha256:${(this.nextId++).toString(16).padStart(64, '0')}`,
      repoTags: [tag],
      size: 1000,
      created: new Date().toISOString(),
      architecture: 'amd64',
      labels,
    };
    this.images.set(tag, info);
    return info;
  }

  /** Runs of one container name, in order. */
  runsOf(name: string): RunRecord[] {
    return this.runs.filter((r) => r.name === name);
  }

  /** Containers that exist and run now, by name. */
  runningNames(): string[] {
    return [...this.containers.values()].filter((c) => c.running).map((c) => c.name).sort();
  }

  /** Makes a container exit now, as its process would. */
  exit(idOrName: string, exitCode = 0, oomKilled = false): void {
    const container = this.find(idOrName);
    if (!container) throw new Error(`fake runtime: no container ${idOrName}`);
    this.finish(container, exitCode, oomKilled);
  }

  // ---- ContainerRuntime ----

  async available(): Promise<boolean> {
    return this.isAvailable;
  }

  unavailableMessage(): string {
    return 'the fake container runtime is switched off';
  }

  describe(): string {
    return 'the in-memory fake runtime';
  }

  async ensureNetwork(name: string): Promise<void> {
    this.up();
    this.networks.add(name);
  }

  async removeNetwork(name: string): Promise<void> {
    this.up();
    this.networks.delete(name);
  }

  async inspectImage(ref: string): Promise<ImageInfo | null> {
    this.up();
    if (ref.startsWith('sha256:')) return [...this.images.values()].find((i) => i.id === ref) ?? null;
    return this.images.get(normalize(ref)) ?? null;
  }

  async listImages(): Promise<ImageInfo[]> {
    this.up();
    return [...new Set(this.images.values())];
  }

  async build(request: BuildRequest): Promise<string[]> {
    this.up();
    await drain(request.context);
    this.addImage(request.tag, request.labels);
    return [`Successfully tagged ${request.tag}\n`];
  }

  async load(tar: Readable): Promise<string[]> {
    this.up();
    await drain(tar);
    throw new EngineLogFailure('load is not simulated', ['the fake runtime cannot load image archives\n']);
  }

  async tagImage(source: string, target: string): Promise<void> {
    const info = await this.inspectImage(source);
    if (!info) throw new Error(`fake runtime: no image ${source}`);
    this.images.set(normalize(target), info);
  }

  async removeImage(ref: string): Promise<void> {
    this.up();
    this.images.delete(normalize(ref));
  }

  async run(spec: ContainerSpec): Promise<string> {
    this.up();
    const clash = this.find(spec.name);
    if (clash) throw new StartFailure(`Conflict. The container name "/${spec.name}" is already in use by container "${clash.id}"`, false);
    const id = `fake${(this.nextId++).toString(16).padStart(12, '0')}`;
    this.runs.push({ at: this.now(), id, name: spec.name, spec });
    const script = this.script(spec) ?? {};
    const container: FakeContainer = {
      id,
      name: spec.name,
      spec,
      running: !script.fail,
      exitCode: script.fail ? 128 : null,
      oomKilled: false,
      startedAt: script.fail ? null : new Date().toISOString(),
      finishedAt: null,
      error: script.fail?.message ?? null,
      stdout: script.stdout ?? '',
      cancelExit: null,
    };
    if (script.fail) {
      if (script.fail.atStart) this.containers.set(id, container);
      throw new StartFailure(script.fail.message, script.fail.atStart);
    }
    this.containers.set(id, container);
    if (script.exitAfterMs !== undefined) {
      if (!this.clock) throw new Error('fake runtime: bindClock before scripting exits');
      container.cancelExit = this.clock.at(this.now() + script.exitAfterMs, () =>
        this.finish(container, script.exitCode ?? 0, script.oomKilled ?? false),
      );
    }
    return id;
  }

  async inspect(idOrName: string): Promise<ContainerState | null> {
    this.up();
    const c = this.find(idOrName);
    if (!c) return null;
    return {
      id: c.id,
      running: c.running,
      exitCode: c.exitCode,
      oomKilled: c.oomKilled,
      startedAt: c.startedAt,
      finishedAt: c.finishedAt,
      error: c.error,
      labels: { ...c.spec.labels },
    };
  }

  async stop(id: string, graceSeconds: number): Promise<void> {
    this.up();
    const c = this.find(id);
    this.stops.push({ at: this.now(), id, name: c?.name ?? '', graceSeconds });
    if (c?.running) this.finish(c, SIGTERM_EXIT, false);
  }

  async remove(id: string): Promise<void> {
    this.up();
    const c = this.find(id);
    if (!c) return;
    this.removed.push(c.name);
    // docker rm -f kills a running container, which the engine reports as an exit.
    if (c.running) this.finish(c, 137, false);
    this.containers.delete(c.id);
  }

  async listContainers(labelFilter: string[]): Promise<ManagedContainer[]> {
    this.up();
    return [...this.containers.values()]
      .filter((c) => matches(c.spec.labels, labelFilter))
      .map((c) => ({ id: c.id, name: c.name, labels: { ...c.spec.labels }, running: c.running }));
  }

  async onContainerExit(labelFilter: string[], listener: (id: string) => void): Promise<() => void> {
    const entry = { filter: labelFilter, fn: listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  async logs(id: string): Promise<{ stdout: string; stderr: string }> {
    this.up();
    return { stdout: this.find(id)?.stdout ?? '', stderr: '' };
  }

  // ---- plumbing ----

  private now(): number {
    return this.clock ? this.clock.now() : Date.now();
  }

  /** A real engine that is down fails every call; so does this one. */
  private up(): void {
    if (!this.isAvailable) throw new Error('connect ENOENT /var/run/docker.sock (fake runtime switched off)');
  }

  private find(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }

  private finish(c: FakeContainer, exitCode: number, oomKilled: boolean): void {
    if (!c.running) return;
    c.cancelExit?.();
    c.running = false;
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.finishedAt = new Date().toISOString();
    // Engine events arrive asynchronously, after the call that caused them.
    for (const { filter, fn } of this.listeners) {
      if (matches(c.spec.labels, filter)) queueMicrotask(() => fn(c.id));
    }
  }
}

function matches(labels: Record<string, string>, filter: string[]): boolean {
  return filter.every((f) => {
    const eq = f.indexOf('=');
    return eq === -1 ? f in labels : labels[f.slice(0, eq)] === f.slice(eq + 1);
  });
}

/** NAME -> NAME:latest, as the engine reads a reference without a tag. */
function normalize(ref: string): string {
  return ref.slice(ref.lastIndexOf('/') + 1).includes(':') ? ref : `${ref}:latest`;
}

async function drain(stream: Readable): Promise<void> {
  for await (const _ of stream) {
    /* discard */
  }
}
