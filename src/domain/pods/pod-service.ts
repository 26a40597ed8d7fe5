import { SimError } from '../errors.ts';
import { KeyedMutex } from '../primitives/keyed-mutex.ts';
import { KeyedTimers } from '../primitives/keyed-timers.ts';
import type { ContainerState } from '../ports/container-runtime.ts';
import type { PodChanges, PodRecord } from '../ports/pod-store.ts';
import { checkPodName, networkName } from './pod-names.ts';
import { podKey } from './pod-records.ts';
import type { PodSpec } from './pod-spec.ts';
import { PodStarter, type PodCollaborators } from './pod-starter.ts';
import { containerState, type ContainerStateView, type PodSummary } from './pod-status.ts';
import { planRun, type RunRequest } from './run-request.ts';

/** The message of a pod stopped because max_duration ran out (Kubernetes' DeadlineExceeded). */
export const DEADLINE_MESSAGE = 'Pod was active on the node longer than the specified deadline';

/** What the pod service is built with. */
export interface PodServiceOptions extends PodCollaborators {
  /** SIGTERM-to-SIGKILL grace, in seconds, when max_duration runs out or a node powers off. */
  stopGraceSeconds: number;
  /** compat.strict: a pod answers only to USER-POD (not its bare name), and ports need a namespace. */
  strict: boolean;
}

/**
 * How often, at most, status polls have the running pods checked against the engine's listing of
 * running containers (ms of real time), for an exit whose event was missed.
 */
const RECONCILE_INTERVAL_MS = 1000;

/**
 * DPhi Pods (spec sections 8 to 10): one per (user, pod name), run as containers named USER-POD on
 * the user's private network. Runs are recorded before anything is started, so a crash can never
 * lose or repeat one: a restart finds each run either not yet started (and starts it) or started
 * (and adopts its container, recognised by its generation). Every operation on one pod runs after
 * the previous one has finished (a KeyedMutex per pod).
 */
export class PodService {
  private readonly timers = new KeyedTimers();
  private readonly locks = new KeyedMutex();
  /** When the latest reconciliation began (performance.now() ms). */
  private reconciledAt = -Infinity;
  private reconciling = false;
  private closed = false;
  /** Running and terminated views of the records the store handed out (frozen, shared while unchanged). */
  private readonly views = new WeakMap<PodRecord, ContainerStateView>();
  private readonly starter: PodStarter;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly o: PodServiceOptions) {
    this.starter = new PodStarter({
      ...o,
      shortNames: !o.strict,
      armStart: (record) => this.arm(record),
      armDeadlines: (record) => this.armDeadlines(record),
    });
  }

  /**
   * /em/pod/run: checks the request (planRun), records the run and, when it is due now and its
   * node is up, starts it before returning. Failures to start show in the pod's status. Returns
   * the pod's name and the run's generation (operations wait for that run to end).
   */
  async run(username: string, request: RunRequest): Promise<{ pod: string; generation: number }> {
    const { pod, spec, dueAt } = planRun(request, {
      now: this.o.clock.now(),
      strict: this.o.strict,
      hasNamespace: () => this.o.store.hasNamespace(username),
      selectVolume: (selection) => this.o.volumes.select(username, selection),
    });
    return { pod, generation: await this.record(username, pod, spec, dueAt) };
  }

  /**
   * The pod's latest run: its generation, where it is (PodPhase) and the state /em/pod/status
   * would show; undefined when the user has no such pod. A running pod is checked with the engine.
   */
  async current(username: string, pod: string): Promise<{ generation: number; phase: PodRecord['phase']; state: ContainerStateView } | undefined> {
    let record = this.o.store.get(username, pod);
    if (!record) return undefined;
    if (record.phase === 'running') record = await this.refresh(record, true);
    return { generation: record.generation, phase: record.phase, state: this.view(record) };
  }

  /**
   * Stops one run of a pod gracefully (an operation's execution was killed): a scheduled run is
   * ended before it starts, a running one gets SIGTERM, then SIGKILL after the grace period. Does
   * nothing when that run is over or was replaced.
   */
  async stop(username: string, pod: string, generation: number, message: string): Promise<void> {
    const record = this.o.store.get(username, pod);
    if (!record || record.generation !== generation) return;
    if (record.phase === 'scheduled' || record.phase === 'waiting') {
      await this.exclusive(record, async () => {
        this.timers.clear(podKey(record));
        this.update(record, { phase: 'terminated', exitCode: 137, reason: 'Error', finishedAt: this.o.clock.now(), message });
      });
      return;
    }
    await this.stopFor(record, message);
  }

  /**
   * The pod's container state (/em/pod/status; pod_name omitted: the default pod):
   * INVALID_POD_NAME, POD_NOT_FOUND when the user has no such pod.
   */
  async status(username: string, podName: string | undefined): Promise<{ state: ContainerStateView; warning?: string }> {
    const pod = checkPodName(podName);
    let record = this.o.store.get(username, pod);
    if (!record) {
      throw new SimError('POD_NOT_FOUND', `No DPhi Pod named "${pod}" exists for this user; start one with /em/pod/run`);
    }
    if (record.phase === 'running') record = await this.refresh(record, true);
    return { state: this.view(record), ...(record.warning ? { warning: record.warning } : {}) };
  }

  /** The user's pods with their states (/sim/pods). */
  async list(username: string): Promise<PodSummary[]> {
    const out: PodSummary[] = [];
    for (let record of this.o.store.listForUser(username)) {
      if (record.phase === 'running') record = await this.refresh(record, true);
      out.push({
        pod_name: record.name,
        image: record.spec.image,
        node: record.spec.node,
        generation: record.generation,
        state: this.view(record),
        ...(record.warning ? { warning: record.warning } : {}),
      });
    }
    return out;
  }

  /** What the pod's latest run wrote so far (/sim/pods/logs; pod_name omitted: the default pod): INVALID_POD_NAME, POD_NOT_FOUND. */
  async logs(username: string, podName: string | undefined): Promise<{ pod: string; stdout: string; stderr: string }> {
    const pod = checkPodName(podName);
    const record = this.o.store.get(username, pod);
    if (!record) throw new SimError('POD_NOT_FOUND', `No DPhi Pod named "${pod}" exists for this user`);
    // A run that never got a container (an exec format error, a refused start) shows why.
    if (!record.containerId) return { pod, stdout: '', stderr: record.phase === 'terminated' && record.message ? `${record.message}\n` : '' };
    return { pod, ...(await this.o.runtime.logs(record.containerId)) };
  }

  /** Creates the user's private network (/em/pod/namespace/create); idempotent. NAMESPACE_CREATE_FAILED. */
  async createNamespace(username: string): Promise<void> {
    try {
      await this.o.runtime.ensureNetwork(networkName(username), username);
      await this.o.onboard?.ensure(username, networkName(username));
      this.o.store.markNamespace(username, this.o.clock.now());
    } catch (err) {
      throw new SimError('NAMESPACE_CREATE_FAILED', `Namespace creation failed: ${(err as Error).message}`);
    }
  }

  /**
   * Brings records and containers back in line after a start or an engine outage: running
   * containers are adopted, finished ones get their final status, unknown ones removed, due runs
   * started.
   */
  async recover(): Promise<void> {
    // Also runs when the engine comes back after an outage: start from a clean slate.
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.timers.clearAll();
    const containers = await this.o.runtime.listContainers();
    const ownerKey = (user: string, pod: string, generation: number) => `${user}/${pod}/${generation}`;
    const byRun = new Map(containers.filter((c) => !c.relay).map((c) => [c.owner ? ownerKey(c.owner.user, c.owner.pod, c.owner.generation) : `orphan:${c.id}`, c]));
    const wanted = new Set<string>();
    for (const record of this.o.store.listAll()) {
      if (record.containerId || record.phase === 'starting') wanted.add(ownerKey(record.username, record.name, record.generation));
    }
    for (const [key, container] of byRun) {
      if (!wanted.has(key)) {
        this.o.logger.info('removing orphaned container', { container: container.name });
        await this.o.runtime.remove(container.id);
      }
    }
    this.unsubscribe = await this.o.runtime.onContainerExit((id) => void this.onExit(id));
    for (const record of this.o.store.listActive()) {
      const container = byRun.get(ownerKey(record.username, record.name, record.generation));
      if (record.phase === 'scheduled') this.arm(record);
      else if (record.phase === 'starting' && !container) {
        // The simulator stopped between recording the start and creating the container: the
        // run has not happened yet, so it happens now (once).
        await this.exclusive(record, () => this.starter.fire(record));
      } else {
        const containerId = record.containerId ?? container?.id ?? null;
        if (containerId && containerId !== record.containerId) this.update(record, { containerId, phase: 'running' });
        const fresh = await this.refresh({ ...record, containerId, phase: 'running' });
        if (fresh.phase === 'running') this.armDeadlines(fresh);
        this.o.logger.info('pod adopted after restart', { user: record.username, pod: record.name, phase: fresh.phase });
      }
    }
    // Users with a pod running or due get the onboard services back on their network in the
    // background (an adopted pod's relay forwarded to a listener that is gone); anyone else gets
    // theirs with their next pod, so a start does no work for users who are not active.
    if (this.o.onboard) {
      for (const user of new Set(this.o.store.listActive().map((r) => r.username))) void this.reconnect(user);
    }
  }

  private async reconnect(user: string): Promise<void> {
    try {
      await this.o.runtime.ensureNetwork(networkName(user), user);
      await this.o.onboard?.ensure(user, networkName(user));
    } catch (err) {
      this.o.logger.warn('could not bring the onboard services back to a user network', { user, error: (err as Error).message });
    }
  }

  /** Stops watching; containers keep running and are adopted by the next start. */
  close(): void {
    this.closed = true;
    this.starter.close();
    this.unsubscribe?.();
    this.timers.clearAll();
  }

  // ---- lifecycle ----

  /** Records a run and, when it is due now and its node is up, starts it before returning. */
  private async record(username: string, pod: string, spec: PodSpec, dueAt: number): Promise<number> {
    return this.locks.run(podKey({ username, name: pod }), async () => {
      // The volume exists from the moment a run is accepted, as a new pod_name's volume does on
      // the EM: files can be uplinked into it before a scheduled run starts, and the moment a
      // run fires finds it made (the start only checks). First, so that a disk that cannot take
      // it leaves the previous pod as it was.
      this.o.volumes.ensure(this.o.volumes.ref(username, spec.volume));
      await this.discard(username, pod);
      const generation = this.o.store.replace({
        username,
        name: pod,
        spec,
        phase: 'scheduled',
        dueAt,
        createdAt: this.o.clock.now(),
        containerId: null,
        startedAt: null,
        finishedAt: null,
        deadlineAt: null,
        exitCode: null,
        reason: null,
        message: null,
        warning: null,
      });
      this.o.logger.info('pod run recorded', { user: username, pod, generation, image: spec.image, node: spec.node, due: new Date(dueAt).toISOString() });
      const record = this.o.store.get(username, pod)!;
      if (dueAt <= this.o.clock.now()) await this.starter.fire(record);
      else this.arm(record);
      return generation;
    });
  }

  /** Starts the run at its due time. */
  private arm(record: PodRecord): void {
    this.timers.add(podKey(record), this.o.clock.at(record.dueAt, () => this.background(record, 'start', () => this.exclusive(record, () => this.starter.fire(record)))));
  }

  /** max_duration, and the node going away, both stop the pod gracefully. */
  private armDeadlines(record: PodRecord): void {
    if (record.deadlineAt !== null) {
      this.timers.add(podKey(record), this.o.clock.at(record.deadlineAt, () => this.background(record, 'stop', () => this.stopFor(record, DEADLINE_MESSAGE))));
    }
    if (this.o.nodes.stopOnOutage) {
      const node = this.o.nodes.availability(record.spec.node, this.o.clock.now());
      if (node.available && node.until !== null) {
        const message = `Node ${record.spec.node} became unavailable (powered off); the pod was stopped`;
        this.timers.add(podKey(record), this.o.clock.at(node.until, () => this.background(record, 'stop', () => this.stopFor(record, message))));
      }
    }
  }

  /** Timer work has no caller to report to: failures are logged, never thrown into the loop. */
  private background(record: PodRecord, what: string, work: () => Promise<void>): void {
    work().catch((err: unknown) => {
      this.o.logger.error(`pod ${what} failed`, { user: record.username, pod: record.name, error: (err as Error).message });
    });
  }

  private async stopFor(record: PodRecord, message: string): Promise<void> {
    await this.exclusive(record, async () => {
      const current = this.o.store.get(record.username, record.name);
      if (!current || current.generation !== record.generation || current.phase !== 'running' || !current.containerId) return;
      this.update(record, { message });
      this.o.logger.info('stopping pod', { user: record.username, pod: record.name, why: message });
      await this.o.runtime.stop(current.containerId, this.o.stopGraceSeconds);
      await this.refresh({ ...current, message });
    });
  }

  private async onExit(containerId: string): Promise<void> {
    const record = this.o.store.listActive().find((r) => r.containerId === containerId);
    if (record) await this.refresh(record);
  }

  /**
   * Reads the container's state from the engine and records a finish. A status poll (`poll`)
   * answers from the record without waiting for the engine: the engine's exit events end a run as
   * it ends, and a poll only has the running pods checked in the background (reconcileSoon), for
   * an event that was missed.
   */
  private async refresh(record: PodRecord, poll = false): Promise<PodRecord> {
    if (!record.containerId) return record;
    if (poll) {
      this.reconcileSoon();
      return record;
    }
    let state: ContainerState | null;
    try {
      state = await this.o.runtime.inspect(record.containerId);
    } catch {
      return record; // engine unreachable: report what we last knew
    }
    if (state?.running) return record;
    const finished = this.finish(record, state);
    if (this.update(record, finished)) {
      this.timers.clear(podKey(record));
      this.o.logger.info('pod finished', { user: record.username, pod: record.name, exitCode: finished.exitCode, reason: finished.reason });
    }
    return { ...record, ...finished };
  }

  /**
   * In the background, at most once a RECONCILE_INTERVAL_MS and one at a time: lists the running
   * containers once and inspects only the running pods missing from that listing (an exit whose
   * event was missed), so 500 pods polled at once cost the engine one listing a second, and no
   * poll waits for an engine busy starting containers. A stopwatch of real time: the simulated
   * clock can be set back or slowed.
   */
  private reconcileSoon(): void {
    const now = performance.now();
    if (this.closed || this.reconciling || (now - this.reconciledAt >= 0 && now - this.reconciledAt < RECONCILE_INTERVAL_MS)) return;
    this.reconciledAt = now;
    this.reconciling = true;
    void (async () => {
      try {
        const running = new Set((await this.o.runtime.listContainers()).filter((c) => c.running).map((c) => c.id));
        for (const record of this.o.store.listActive()) {
          if (this.closed) return;
          // A container started after the listing is inspected, found running and left alone.
          if (record.phase === 'running' && record.containerId && !running.has(record.containerId)) await this.refresh(record);
        }
      } catch {
        // The engine did not answer: the next poll tries again, and the requests that need the
        // engine report it (EngineStatus).
      } finally {
        this.reconciling = false;
      }
    })();
  }

  /** The terminated state a finished (or vanished) container leaves. */
  private finish(record: PodRecord, state: ContainerState | null): PodChanges {
    if (!state) {
      return { phase: 'terminated', exitCode: 137, reason: 'Error', finishedAt: this.o.clock.now(), message: record.message ?? 'The container disappeared' };
    }
    const exitCode = state.exitCode ?? 0;
    return {
      phase: 'terminated',
      exitCode,
      reason: state.oomKilled ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
      finishedAt: state.finishedAt ? this.o.clock.fromRealTime(Date.parse(state.finishedAt)) : this.o.clock.now(),
      message: record.message,
    };
  }

  /** Stops and removes the previous run's container (whatever else holds the name is cleared when the new run starts: PodStarter). */
  private async discard(username: string, pod: string): Promise<void> {
    const previous = this.o.store.get(username, pod);
    if (previous) {
      this.timers.clear(podKey(previous));
      if (previous.containerId) await this.o.runtime.remove(previous.containerId);
    }
  }

  private view(record: PodRecord): ContainerStateView {
    // A running or terminated state depends on the record alone, and a record the store hands out
    // again is the same object while the pod is unchanged: its view is made once.
    const settled = record.phase === 'running' || record.phase === 'terminated';
    const known = settled ? this.views.get(record) : undefined;
    if (known) return known;
    // A pod waiting for a catalog image shows the preparation's latest step.
    const live = record.phase === 'starting' && record.reason === 'PreparingImage' ? this.o.images.preparing(record.spec.image) : undefined;
    const shown = live ? { ...record, message: live } : record;
    const view = containerState(shown, this.o.clock.now(), this.o.nodes, () => this.o.images.triedReference(record.username, record.spec.image));
    if (settled) this.views.set(record, view);
    return view;
  }

  private update(record: PodRecord, changes: PodChanges): boolean {
    return this.o.store.update(record.username, record.name, record.generation, changes);
  }

  /** Runs fn after every earlier operation on the same pod has finished. */
  private exclusive<T>(record: PodRecord, fn: () => Promise<T>): Promise<T> {
    return this.locks.run(podKey(record), fn);
  }
}
