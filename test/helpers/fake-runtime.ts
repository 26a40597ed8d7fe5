import type { Readable } from 'node:stream';
import type { Clock } from '../../src/domain/ports/clock.ts';
import { StartFailure, type ContainerEngine, type ContainerRuntime, type ContainerSpec, type ContainerState, type OwnedContainer } from '../../src/domain/ports/container-runtime.ts';
import { EngineLogFailure, type BuildRequest, type ImageInfo, type ImageStore, type PullResult, type ImageRuntimeConfig,
  type StandinMark } from '../../src/domain/ports/image-store.ts';

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
  /** How often the pod service asked the "engine" about containers, by call. */
  readonly calls = { inspect: 0, listContainers: 0 };
  /** While set, listContainers() answers only once this settles (an engine busy starting containers). */
  listingHeld: Promise<void> | null = null;
  /** Whether the "engine" answers; toggle to simulate it going away. */
  isAvailable = true;
  /** Decides what each new container does; default: runs until stopped. */
  script: (spec: ContainerSpec) => Script | void = () => {};

  private clock: Pick<Clock, 'now' | 'at'> | null = null;
  private readonly containers = new Map<string, FakeContainer>();
  private readonly listeners = new Set<(id: string) => void>();
  private nextId = 1;
  /** Images, kept in memory: the catalog's (or those given), and what build() makes. */
  readonly images: FakeImages;

  constructor(options: { images?: string[] } = {}) {
    this.images = new FakeImages(() => this.up());
    for (const ref of options.images ?? FAKE_CATALOG_IMAGES) this.images.add(ref);
  }

  /** The simulator's clock exists only once it started; bind it then. */
  bindClock(clock: Pick<Clock, 'now' | 'at'>): void {
    this.clock = clock;
  }

  /** Both engine ports, as the simulator takes them. */
  get engine(): ContainerEngine {
    return { containers: this, images: this.images };
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

  /** Makes a container exit without the engine's event reaching anyone (an event stream that dropped it). */
  exitUnseen(idOrName: string, exitCode = 0): void {
    const container = this.find(idOrName);
    if (!container) throw new Error(`fake runtime: no container ${idOrName}`);
    this.finish(container, exitCode, false, false);
  }

  // ---- ContainerRuntime and ImageStore ----

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

  async removeNetwork(name: string): Promise<boolean> {
    this.up();
    return this.networks.delete(name);
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
    this.calls.inspect++;
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
      managed: true,
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

  async listContainers(): Promise<OwnedContainer[]> {
    this.up();
    this.calls.listContainers++;
    if (this.listingHeld) await this.listingHeld;
    return [...this.containers.values()].map((c) => ({ id: c.id, name: c.name, owner: { ...c.spec.owner }, running: c.running }));
  }

  async onContainerExit(listener: (id: string) => void): Promise<() => void> {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
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
  up(): void {
    if (!this.isAvailable) throw new Error('connect ENOENT /var/run/docker.sock (fake runtime switched off)');
  }

  private find(idOrName: string): FakeContainer | undefined {
    return this.containers.get(idOrName) ?? [...this.containers.values()].find((c) => c.name === idOrName);
  }

  private finish(c: FakeContainer, exitCode: number, oomKilled: boolean, announce = true): void {
    if (!c.running) return;
    c.cancelExit?.();
    c.running = false;
    c.exitCode = exitCode;
    c.oomKilled = oomKilled;
    c.finishedAt = new Date().toISOString();
    // Engine events arrive asynchronously, after the call that caused them.
    if (announce) for (const fn of this.listeners) queueMicrotask(() => fn(c.id));
  }
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

/** The onboard images the fake engine has unless told otherwise (arm64, like prepared catalog images). */
export const FAKE_CATALOG_IMAGES = ['alpine:latest', 'alpine:3.19', 'busybox:latest', 'debian:bookworm-slim', 'python:3.10-slim', 'python:3.11-alpine', 'python:3.12-alpine'];

/** The ImageStore of the fake engine: references to image records in memory. */
export class FakeImages implements ImageStore {
  private readonly byRef = new Map<string, ImageInfo>();
  private nextId = 1;

  /** `up` throws when the fake engine is switched off. */
  constructor(private readonly up: () => void) {}

  /** Adds an image under `ref` (NAME -> NAME:latest). */
  add(ref: string): ImageInfo {
    const tag = normalize(ref);
    const info: ImageInfo = {
      id: `sha256:${(this.nextId++).toString(16).padStart(64, '0')}`,
      repoTags: [tag],
      size: 1000,
      created: new Date().toISOString(),
      architecture: 'arm64',
      standin: null,
    };
    this.byRef.set(tag, info);
    return info;
  }

  async inspect(ref: string): Promise<ImageInfo | null> {
    this.up();
    if (ref.startsWith('sha256:')) return [...this.byRef.values()].find((i) => i.id === ref) ?? null;
    return this.byRef.get(normalize(ref)) ?? null;
  }

  async list(): Promise<ImageInfo[]> {
    this.up();
    return [...new Set(this.byRef.values())];
  }

  async build(request: BuildRequest): Promise<string[]> {
    this.up();
    await drain(request.context);
    this.add(request.tag);
    return [`Successfully tagged ${request.tag}\n`];
  }

  async load(tar: Readable, _check: (tags: string[] | null) => void): Promise<string[]> {
    this.up();
    await drain(tar);
    throw new EngineLogFailure('load is not simulated', ['the fake runtime cannot load image archives\n']);
  }


  async tag(source: string, target: string): Promise<void> {
    const info = await this.inspect(source);
    if (!info) throw new Error(`fake runtime: no image ${source}`);
    this.byRef.set(normalize(target), info);
  }

  async remove(ref: string): Promise<void> {
    this.up();
    this.byRef.delete(normalize(ref));
  }

  async pull(): Promise<PullResult> {
    return { ok: false, reason: 'the fake runtime reaches no registry', unreachable: true };
  }

  async importRootfs(_tar: Readable, _options: { tag: string; config: ImageRuntimeConfig; mark: StandinMark }): Promise<{ id: string; size: number }> {
    throw new Error('the fake runtime cannot import images');
  }

  async derive(source: string, target: string): Promise<string> {
    await this.tag(source, target);
    return (await this.inspect(target))!.id;
  }

}
