import { parse as shellParse } from 'shell-quote';
import type { PodRepo, PodRow } from '../adapters/sqlite/pod-repo.ts';
import type { NodeName } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { Clock } from './clock.ts';
import { SimError } from './errors.ts';
import type { ImageService } from './images.ts';
import type { NodeSchedule } from './nodes.ts';
import { StartFailure, type ContainerRuntime, type ContainerState } from './runtime.ts';
import type { VolumeService } from './volumes.ts';

/** What a run asked for, as stored with the pod. */
export interface PodSpec {
  image: string;
  node: NodeName;
  maxDurationMinutes: number;
  command?: string;
  args?: string[];
  envs?: Record<string, string>;
  ports?: number[];
  namespace: boolean;
  /** The volume mounted at /data: the pod's own, or the pvc_name given. */
  volume: string;
  scheduledTime?: string;
}

/** The Kubernetes container state the status endpoint returns. */
export type ContainerStateView =
  | { waiting: { reason: string; message: string } }
  | { running: { startedAt: string } }
  | { terminated: { exitCode: number; reason: string; startedAt: string | null; finishedAt: string | null; message?: string } };

export interface PodSummary {
  pod_name: string;
  image: string;
  node: NodeName;
  generation: number;
  state: ContainerStateView;
}

export interface PodServiceOptions {
  instanceId: string;
  /** SIGTERM-to-SIGKILL grace when max_duration runs out or a node powers off. */
  stopGraceSeconds: number;
  /** Whether a pod also answers to its bare pod name (later clients); strict mode says no. */
  shortNames: boolean;
}

export const LABEL = {
  managed: 'em-sim.managed',
  instance: 'em-sim.instance',
  user: 'em-sim.user',
  pod: 'em-sim.pod',
  generation: 'em-sim.generation',
} as const;

const PULL_BACKOFF_AFTER_MS = 10_000;
const ENGINE_RETRY_MS = 5_000;
export const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/**
 * DPhi Pods: one per (user, pod name), run as containers named USER-POD on the user's private
 * network. Runs are recorded before anything is started, so a crash can never lose or repeat
 * one: a restart finds each run either not yet started (and starts it) or started (and adopts
 * its container, recognised by the generation label).
 */
export class PodService {
  private readonly timers = new Map<string, (() => void)[]>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private unsubscribe: (() => void) | null = null;
  private closed = false;

  constructor(
    private readonly repo: PodRepo,
    private readonly runtime: ContainerRuntime,
    private readonly images: ImageService,
    private readonly volumes: VolumeService,
    private readonly nodes: NodeSchedule,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly options: PodServiceOptions,
  ) {}

  static networkName(username: string): string {
    return `em-sim-${username}`;
  }

  static containerName(username: string, pod: string): string {
    return `${username}-${pod}`;
  }

  /** Records a run and, when it is due now and its node is up, starts it before returning. */
  async run(username: string, pod: string, spec: PodSpec, dueAt: number): Promise<void> {
    await this.exclusive(username, pod, async () => {
      // The volume exists from the moment a run is accepted, as a new pod_name's volume does on
      // the EM: files can be uplinked into it before a scheduled run starts, and the moment a
      // run fires finds it made (fire() only checks). First, so that a disk that cannot take
      // it leaves the previous pod as it was.
      this.volumes.ensure(this.volumes.ref(username, spec.volume));
      await this.discard(username, pod);
      const generation = this.repo.replace({
        username,
        name: pod,
        spec: JSON.stringify(spec),
        phase: 'scheduled',
        due_at: dueAt,
        created_at: this.clock.now(),
        container_id: null,
        started_at: null,
        finished_at: null,
        deadline_at: null,
        exit_code: null,
        reason: null,
        message: null,
      });
      this.logger.info('pod run recorded', { user: username, pod, generation, image: spec.image, node: spec.node, due: new Date(dueAt).toISOString() });
      const row = this.repo.get(username, pod)!;
      if (dueAt <= this.clock.now()) await this.fire(row);
      else this.arm(row);
    });
  }

  async status(username: string, pod: string): Promise<ContainerStateView> {
    let row = this.repo.get(username, pod);
    if (!row) {
      throw new SimError('POD_NOT_FOUND', `No DPhi Pod named "${pod}" exists for this user; start one with /em/pod/run`);
    }
    if (row.phase === 'running') row = await this.refresh(row);
    return this.view(row);
  }

  async list(username: string): Promise<PodSummary[]> {
    const rows = this.repo.listForUser(username);
    const out: PodSummary[] = [];
    for (let row of rows) {
      if (row.phase === 'running') row = await this.refresh(row);
      const spec = JSON.parse(row.spec) as PodSpec;
      out.push({ pod_name: row.name, image: spec.image, node: spec.node, generation: row.generation, state: this.view(row) });
    }
    return out;
  }

  async logs(username: string, pod: string): Promise<{ stdout: string; stderr: string }> {
    const row = this.repo.get(username, pod);
    if (!row) throw new SimError('POD_NOT_FOUND', `No DPhi Pod named "${pod}" exists for this user`);
    if (!row.container_id) return { stdout: '', stderr: '' };
    return this.runtime.logs(row.container_id);
  }

  /** Creates the user's private network; idempotent. */
  async createNamespace(username: string): Promise<void> {
    await this.runtime.ensureNetwork(PodService.networkName(username), { [LABEL.managed]: 'true', [LABEL.user]: username });
    this.repo.markNamespace(username, this.clock.now());
  }

  hasNamespace(username: string): boolean {
    return this.repo.hasNamespace(username);
  }

  /** Pods of a user that have (or will have) a container using the volume. */
  usersOfVolume(username: string, volume: string): string[] {
    return this.repo
      .listForUser(username)
      .filter((row) => row.phase !== 'terminated' && row.phase !== 'waiting' && (JSON.parse(row.spec) as PodSpec).volume === volume)
      .map((row) => row.name);
  }

  /**
   * Pods recorded as running, of every user, by node (for /em/nodes/status). Records follow the
   * engine's exit events, so a pod that has just ended may be listed until its event arrives.
   */
  runningByNode(): Map<NodeName, { username: string; pod: string }[]> {
    const out = new Map<NodeName, { username: string; pod: string }[]>(this.nodes.names.map((n) => [n, []]));
    for (const row of this.repo.listActive()) {
      if (row.phase !== 'running') continue;
      const node = (JSON.parse(row.spec) as PodSpec).node;
      out.get(node)?.push({ username: row.username, pod: row.name });
    }
    return out;
  }

  /**
   * Brings records and containers back in line after a start: running containers are adopted,
   * finished ones get their final status, unknown ones removed, due runs started.
   */
  async recover(): Promise<void> {
    // Also runs when the engine comes back after an outage: start from a clean slate.
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const cancels of this.timers.values()) for (const cancel of cancels) cancel();
    this.timers.clear();
    const managed = await this.runtime.listContainers([`${LABEL.instance}=${this.options.instanceId}`]);
    const byKey = new Map(managed.map((c) => [`${c.labels[LABEL.user]}/${c.labels[LABEL.pod]}/${c.labels[LABEL.generation]}`, c]));
    const wanted = new Set<string>();
    for (const row of this.repo.listAll()) {
      if (row.container_id || row.phase === 'starting') wanted.add(`${row.username}/${row.name}/${row.generation}`);
    }
    for (const [key, container] of byKey) {
      if (!wanted.has(key)) {
        this.logger.info('removing orphaned container', { container: container.name });
        await this.runtime.remove(container.id);
      }
    }
    this.unsubscribe = await this.runtime.onContainerExit([`${LABEL.instance}=${this.options.instanceId}`], (id) => void this.onExit(id));
    for (const row of this.repo.listActive()) {
      const container = byKey.get(`${row.username}/${row.name}/${row.generation}`);
      if (row.phase === 'scheduled') this.arm(row);
      else if (row.phase === 'starting' && !container) {
        // The simulator stopped between recording the start and creating the container: the
        // run has not happened yet, so it happens now (once).
        await this.exclusive(row.username, row.name, () => this.fire(row));
      } else {
        const adopted = { ...row, container_id: row.container_id ?? container?.id ?? null };
        if (adopted.container_id && adopted.container_id !== row.container_id) {
          this.repo.update(row.username, row.name, row.generation, { container_id: adopted.container_id, phase: 'running' });
        }
        const fresh = await this.refresh({ ...adopted, phase: 'running' });
        if (fresh.phase === 'running') this.armDeadlines(fresh);
        this.logger.info('pod adopted after restart', { user: row.username, pod: row.name, phase: fresh.phase });
      }
    }
  }

  /** Stops watching; containers keep running and are adopted by the next start. */
  close(): void {
    this.closed = true;
    this.unsubscribe?.();
    for (const cancels of this.timers.values()) for (const cancel of cancels) cancel();
    this.timers.clear();
  }

  /** Removes every pod of a user (used by reset). */
  async removeUserPods(username: string): Promise<void> {
    for (const row of this.repo.listForUser(username)) {
      await this.exclusive(username, row.name, () => this.discard(username, row.name));
    }
    this.repo.deleteUser(username);
  }

  // ---- lifecycle ----

  private arm(row: PodRow): void {
    this.addTimer(row, this.clock.at(row.due_at, () => this.background(row, 'start', () => this.exclusive(row.username, row.name, () => this.fire(row)))));
  }

  /** Timer work has no caller to report to: failures are logged, never thrown into the loop. */
  private background(row: PodRow, what: string, work: () => Promise<void>): void {
    work().catch((err: unknown) => {
      this.logger.error(`pod ${what} failed`, { user: row.username, pod: row.name, error: (err as Error).message });
    });
  }

  /** Starts a due run, or leaves it waiting for its node. */
  private async fire(row: PodRow): Promise<void> {
    if (this.closed) return;
    const current = this.repo.get(row.username, row.name);
    if (!current || current.generation !== row.generation) return;
    if (current.phase !== 'scheduled' && current.phase !== 'starting') return;
    const spec = JSON.parse(current.spec) as PodSpec;
    const now = this.clock.now();
    const node = this.nodes.availability(spec.node, now);
    if (!node.available) {
      // Held back until the node comes up; with no window ahead it waits until replaced.
      this.repo.update(row.username, row.name, row.generation, {
        phase: 'scheduled',
        reason: 'NodeUnavailable',
        ...(node.until !== null ? { due_at: node.until } : {}),
      });
      if (node.until !== null) this.arm({ ...current, due_at: node.until });
      return;
    }
    // Commit the intent before touching the engine: from here a crash means "start it on
    // restart unless its container exists", never "start it twice".
    this.repo.update(row.username, row.name, row.generation, { phase: 'starting', reason: null });
    const name = PodService.containerName(row.username, row.name);
    try {
      const image = await this.images.resolveForRun(row.username, spec.image);
      if ('waiting' in image) {
        this.repo.update(row.username, row.name, row.generation, {
          phase: 'waiting',
          reason: image.waiting.reason,
          message: image.waiting.message,
          // For a waiting pod, started_at holds when the pull was tried (ErrImagePull turns
          // into ImagePullBackOff some seconds later, as on Kubernetes).
          started_at: String(now),
        });
        this.logger.warn('pod cannot start', { user: row.username, pod: row.name, reason: image.waiting.reason });
        return;
      }
      const volume = this.volumes.ref(row.username, spec.volume);
      this.volumes.ensure(volume);
      const network = PodService.networkName(row.username);
      const limits = this.nodes.limits(spec.node);
      await this.runtime.ensureNetwork(network, { [LABEL.managed]: 'true', [LABEL.user]: row.username });
      await this.removeLeftover(name);
      const id = await this.runtime.run({
        name,
        image: image.id,
        ...commandFor(spec),
        env: spec.envs ?? {},
        labels: {
          [LABEL.managed]: 'true',
          [LABEL.instance]: this.options.instanceId,
          [LABEL.user]: row.username,
          [LABEL.pod]: row.name,
          [LABEL.generation]: String(row.generation),
        },
        volumeDir: volume.dir,
        network,
        aliases: this.options.shortNames ? [name, row.name] : [name],
        cpus: limits.cpus,
        memoryBytes: limits.memoryMb * 1024 * 1024,
      });
      const startedAt = this.clock.now();
      const deadline = startedAt + spec.maxDurationMinutes * 60_000;
      this.repo.update(row.username, row.name, row.generation, {
        phase: 'running',
        container_id: id,
        started_at: String(startedAt),
        deadline_at: deadline,
      });
      this.logger.info('pod started', { user: row.username, pod: row.name, container: name, node: spec.node });
      this.armDeadlines({ ...current, phase: 'running', container_id: id, started_at: String(startedAt), deadline_at: deadline });
    } catch (err) {
      if (err instanceof SimError) {
        this.repo.update(row.username, row.name, row.generation, { phase: 'waiting', reason: 'RunContainerError', message: err.message });
        this.logger.warn('pod failed to start', { user: row.username, pod: row.name, error: err.message });
        return;
      }
      if (!(err instanceof StartFailure)) {
        // The engine did not answer: try again shortly rather than lose the run.
        const retryAt = this.clock.now() + ENGINE_RETRY_MS;
        this.repo.update(row.username, row.name, row.generation, { phase: 'scheduled', due_at: retryAt, reason: 'EngineUnavailable' });
        this.arm({ ...current, due_at: retryAt });
        throw err;
      }
      const at = String(this.clock.now());
      if (err.atStart) {
        const leftover = await this.runtime.inspect(name);
        this.repo.update(row.username, row.name, row.generation, {
          phase: 'terminated',
          container_id: leftover?.id ?? null,
          exit_code: 128,
          reason: 'StartError',
          message: err.message,
          started_at: null,
          finished_at: at,
        });
      } else {
        this.repo.update(row.username, row.name, row.generation, { phase: 'waiting', reason: 'RunContainerError', message: err.message });
      }
      this.logger.warn('pod failed to start', { user: row.username, pod: row.name, error: err.message });
    }
  }

  /** max_duration, and the node going away, both stop the pod gracefully. */
  private armDeadlines(row: PodRow): void {
    const spec = JSON.parse(row.spec) as PodSpec;
    if (row.deadline_at !== null) {
      this.addTimer(row, this.clock.at(row.deadline_at, () => this.background(row, 'stop', () => this.stopFor(row, DEADLINE_MESSAGE))));
    }
    if (this.nodes.stopOnOutage) {
      const node = this.nodes.availability(spec.node, this.clock.now());
      if (node.available && node.until !== null) {
        const message = `Node ${spec.node} became unavailable (powered off); the pod was stopped`;
        this.addTimer(row, this.clock.at(node.until, () => this.background(row, 'stop', () => this.stopFor(row, message))));
      }
    }
  }

  private async stopFor(row: PodRow, message: string): Promise<void> {
    await this.exclusive(row.username, row.name, async () => {
      const current = this.repo.get(row.username, row.name);
      if (!current || current.generation !== row.generation || current.phase !== 'running' || !current.container_id) return;
      this.repo.update(row.username, row.name, row.generation, { message });
      this.logger.info('stopping pod', { user: row.username, pod: row.name, why: message });
      await this.runtime.stop(current.container_id, this.options.stopGraceSeconds);
      await this.refresh({ ...current, message });
    });
  }

  private async onExit(containerId: string): Promise<void> {
    const row = this.repo.listActive().find((r) => r.container_id === containerId);
    if (row) await this.refresh(row);
  }

  /** Reads the container's state from the engine and records a finish. */
  private async refresh(row: PodRow): Promise<PodRow> {
    if (!row.container_id) return row;
    let state: ContainerState | null;
    try {
      state = await this.runtime.inspect(row.container_id);
    } catch {
      return row; // engine unreachable: report what we last knew
    }
    if (state?.running) return row;
    const finished = this.finishFields(row, state);
    if (this.repo.update(row.username, row.name, row.generation, finished)) {
      this.clearTimers(row);
      this.logger.info('pod finished', { user: row.username, pod: row.name, exitCode: finished.exit_code, reason: finished.reason });
    }
    return { ...row, ...finished };
  }

  private finishFields(row: PodRow, state: ContainerState | null): Partial<PodRow> {
    if (!state) {
      return { phase: 'terminated', exit_code: 137, reason: 'Error', finished_at: String(this.clock.now()), message: row.message ?? 'The container disappeared' };
    }
    const exitCode = state.exitCode ?? 0;
    const reason = state.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error';
    return {
      phase: 'terminated',
      exit_code: exitCode,
      reason,
      finished_at: String(this.simTimeOf(state.finishedAt)),
      message: row.message,
    };
  }

  /** Maps an engine timestamp (real time) onto the simulated clock. */
  private simTimeOf(engineTime: string | null): number {
    const now = this.clock.now();
    if (!engineTime) return now;
    const realAgo = Math.max(0, Date.now() - Date.parse(engineTime));
    const speed = (this.clock as { speed?: number }).speed ?? 1;
    return Math.round(now - realAgo * speed);
  }

  /** Stops and removes whatever the previous run of this pod name left. */
  private async discard(username: string, pod: string): Promise<void> {
    const previous = this.repo.get(username, pod);
    if (previous) {
      this.clearTimers(previous);
      if (previous.container_id) await this.runtime.remove(previous.container_id);
    }
    await this.removeLeftover(PodService.containerName(username, pod));
  }

  private async removeLeftover(name: string): Promise<void> {
    const leftover = await this.runtime.inspect(name);
    if (!leftover) return;
    if (leftover.labels[LABEL.managed] !== 'true') {
      throw new SimError('INTERNAL_ERROR', `A container named ${name} exists that em-sim did not create; remove it (docker rm -f ${name})`);
    }
    await this.runtime.remove(leftover.id);
  }

  private view(row: PodRow): ContainerStateView {
    const spec = JSON.parse(row.spec) as PodSpec;
    const iso = (ms: string | null) => (ms === null ? null : isoSeconds(Number(ms)));
    switch (row.phase) {
      case 'scheduled': {
        if (row.reason === 'NodeUnavailable') {
          const node = this.nodes.availability(spec.node, this.clock.now());
          const back = node.available
            ? 'it is coming up now'
            : node.until === null
              ? 'no availability window is configured ahead'
              : `it becomes available at ${isoSeconds(node.until)}`;
          return { waiting: { reason: 'NodeUnavailable', message: `Node ${spec.node} is unavailable; ${back}. The pod will start then.` } };
        }
        if (row.reason === 'EngineUnavailable') {
          return { waiting: { reason: 'ContainerCreating', message: `Waiting for the container engine; retrying at ${isoSeconds(row.due_at)}` } };
        }
        return { waiting: { reason: 'Scheduled', message: `Scheduled to run at ${isoSeconds(row.due_at)} on node ${spec.node}` } };
      }
      case 'starting':
        return { waiting: { reason: 'ContainerCreating', message: '' } };
      case 'waiting':
        if (row.reason === 'ErrImagePull' && this.clock.now() - Number(row.started_at ?? 0) > PULL_BACKOFF_AFTER_MS) {
          return { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${this.triedReference(row)}": ErrImagePull: ${row.message}` } };
        }
        return { waiting: { reason: row.reason ?? 'ContainerCreating', message: row.message ?? '' } };
      case 'running':
        return { running: { startedAt: iso(row.started_at)! } };
      case 'terminated': {
        const terminated: { exitCode: number; reason: string; startedAt: string | null; finishedAt: string | null; message?: string } = {
          exitCode: row.exit_code ?? 0,
          reason: row.reason ?? 'Completed',
          startedAt: iso(row.started_at),
          finishedAt: iso(row.finished_at),
        };
        if (row.message) terminated.message = row.message;
        return { terminated };
      }
    }
  }

  private triedReference(row: PodRow): string {
    const spec = JSON.parse(row.spec) as PodSpec;
    return this.images.triedReference(row.username, spec.image);
  }

  // ---- plumbing ----

  private addTimer(row: PodRow, cancel: () => void): void {
    const key = `${row.username}/${row.name}`;
    const list = this.timers.get(key) ?? [];
    list.push(cancel);
    this.timers.set(key, list);
  }

  private clearTimers(row: PodRow): void {
    const key = `${row.username}/${row.name}`;
    for (const cancel of this.timers.get(key) ?? []) cancel();
    this.timers.delete(key);
  }

  /** Runs fn after every earlier operation on the same pod has finished. */
  private exclusive<T>(username: string, pod: string, fn: () => Promise<T>): Promise<T> {
    const key = `${username}/${pod}`;
    const previous = this.locks.get(key) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(fn);
    this.locks.set(key, next);
    void next.finally(() => {
      if (this.locks.get(key) === next) this.locks.delete(key);
    }).catch(() => {});
    return next;
  }
}

/**
 * The command semantics of api-decisions.md: a command alone runs through /bin/sh -c; with
 * args, the command is split into words (no expansion) and the args appended, as Kubernetes
 * does; args alone replace the image's CMD; neither keeps the image's own.
 */
export function commandFor(spec: Pick<PodSpec, 'command' | 'args'>): { entrypoint?: string[]; cmd?: string[] } {
  if (spec.command !== undefined && !spec.args?.length) return { entrypoint: ['/bin/sh', '-c'], cmd: [spec.command] };
  if (spec.command !== undefined) return { entrypoint: splitWords(spec.command), cmd: spec.args };
  if (spec.args?.length) return { cmd: spec.args };
  return {};
}

export function splitWords(command: string): string[] {
  // Variables stay as written: Kubernetes does not expand $VAR in command either.
  return shellParse(command, (key) => `$${key}`).map((part) => {
    if (typeof part === 'string') return part;
    if ('op' in part) return part.op === 'glob' ? (part as { pattern: string }).pattern : part.op;
    if ('comment' in part) return `#${part.comment}`;
    return String(part);
  });
}

export function isoSeconds(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
