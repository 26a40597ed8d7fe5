import { SimError } from '../errors.ts';
import type { ImageService } from '../images/image-service.ts';
import type { NodeSchedule } from '../nodes/node-schedule.ts';
import type { Clock } from '../ports/clock.ts';
import { StartFailure, type ContainerRuntime, type ContainerSpec } from '../ports/container-runtime.ts';
import type { Logger } from '../ports/logger.ts';
import type { PodChanges, PodRecord, PodStore } from '../ports/pod-store.ts';
import type { VolumeService } from '../volumes/volume-service.ts';
import { containerName, networkName } from './pod-names.ts';
import { commandFor } from './pod-spec.ts';

/** How long a run waits for an engine that did not answer before trying again (simulated ms). */
const ENGINE_RETRY_MS = 5_000;

/** What a pod's run works with: the ports and services the pod service and its starter share. */
export interface PodCollaborators {
  store: PodStore;
  runtime: ContainerRuntime;
  images: ImageService;
  volumes: VolumeService;
  nodes: NodeSchedule;
  clock: Clock;
  logger: Logger;
  /** Brings the onboard services onto a user's network (absent: no services, as in the scheduling tests). */
  onboard?: { ensure(user: string, network: string): Promise<void> };
}

/** What the starter is built with: the collaborators, and how to re-arm a run's timers. */
export interface PodStarterOptions extends PodCollaborators {
  /** Whether a pod also answers to its bare pod name on its network (later clients; not in strict mode). */
  shortNames: boolean;
  /** Arms the run's start timer again (for a node that comes up later, an engine that comes back). */
  armStart(record: PodRecord): void;
  /** Arms max_duration and the node's power-off for a run that started. */
  armDeadlines(record: PodRecord): void;
}

/**
 * Starts a due run. The outcomes, each recorded on the pod: held back until its node is up
 * (NodeUnavailable); waiting for an image (ErrImagePull, InvalidImageName); running; refused by
 * the engine (StartError when created but not started, RunContainerError otherwise); or retried
 * shortly when the engine did not answer at all (the run is never lost). The caller holds the
 * pod's lock.
 */
export class PodStarter {
  private closed = false;

  constructor(private readonly o: PodStarterOptions) {}

  close(): void {
    this.closed = true;
  }

  /** Starts the run if it is still current and due, or leaves it waiting for its node. */
  async fire(due: PodRecord): Promise<void> {
    if (this.closed) return;
    const current = this.o.store.get(due.username, due.name);
    if (!current || current.generation !== due.generation) return;
    if (current.phase !== 'scheduled' && current.phase !== 'starting') return;
    const now = this.o.clock.now();
    if (!this.nodeIsUp(current, now)) return;
    // Commit the intent before touching the engine: from here a crash means "start it on
    // restart unless its container exists", never "start it twice".
    this.update(current, { phase: 'starting', reason: null });
    try {
      const image = await this.o.images.resolveForRun(current.username, current.spec.image);
      if ('waiting' in image) return this.waitForImage(current, image.waiting, now);
      if ('preparing' in image) return this.waitForPreparation(current, image.preparing);
      // Like CG2's arm64 nodes: an image for another architecture fails at exec (api-decisions:
      // the platform around the pod is the onboard one); native mode runs it and warns.
      const warning = image.architectureProblem;
      if (warning && this.o.images.platform.mode === 'arm64') return this.execFormatError(current, warning);
      const id = await this.startContainer(current, image.id);
      const startedAt = this.o.clock.now();
      const deadlineAt = startedAt + (current.spec.maxDurationSeconds ?? current.spec.maxDurationMinutes * 60) * 1000;
      this.update(current, { phase: 'running', containerId: id, startedAt, deadlineAt, warning, message: null });
      this.o.logger.info('pod started', { user: current.username, pod: current.name, container: containerName(current.username, current.name), node: current.spec.node });
      if (warning) this.o.logger.warn('pod image would not run onboard', { user: current.username, pod: current.name, warning });
      this.o.armDeadlines({ ...current, phase: 'running', containerId: id, startedAt, deadlineAt });
    } catch (err) {
      await this.startFailed(current, err);
    }
  }

  /** Removes a container left under the pod's name; refuses (INTERNAL_ERROR) one that em-sim did not create. */
  private async removeLeftover(name: string): Promise<void> {
    const leftover = await this.o.runtime.inspect(name);
    if (!leftover) return;
    if (!leftover.managed) {
      throw new SimError('INTERNAL_ERROR', `A container that em-sim did not create holds the name of this pod's container (${name}); remove it (docker rm -f ${leftover.id.slice(0, 12)})`);
    }
    await this.o.runtime.remove(leftover.id);
  }

  /** Whether the pod's node is powered now; if not, the run is held back until it comes up. */
  private nodeIsUp(record: PodRecord, now: number): boolean {
    const node = this.o.nodes.availability(record.spec.node, now);
    if (node.available) return true;
    // With no window ahead it waits until replaced.
    this.update(record, { phase: 'scheduled', reason: 'NodeUnavailable', ...(node.until !== null ? { dueAt: node.until } : {}) });
    if (node.until !== null) this.o.armStart({ ...record, dueAt: node.until });
    return false;
  }

  /** `triedAt`: when the start began, simulated epoch ms. */
  private waitForImage(record: PodRecord, waiting: { reason: string; message: string }, triedAt: number): void {
    // For a waiting pod, startedAt holds when the pull was tried (ErrImagePull turns into
    // ImagePullBackOff some seconds later, as on Kubernetes).
    this.update(record, { phase: 'waiting', reason: waiting.reason, message: waiting.message, startedAt: triedAt });
    this.o.logger.warn('pod cannot start', { user: record.username, pod: record.name, reason: waiting.reason });
  }

  /**
   * A catalog image is being made present: the pod shows ContainerCreating with what is being
   * prepared (as Kubernetes shows it while pulling), and the start is tried again once it settles.
   */
  private waitForPreparation(record: PodRecord, preparing: { message: string; done: Promise<unknown> }): void {
    this.update(record, { phase: 'starting', reason: 'PreparingImage', message: preparing.message });
    this.o.logger.info('pod waits for its image', { user: record.username, pod: record.name, image: record.spec.image });
    void preparing.done.then(() => {
      if (!this.closed) this.o.armStart({ ...record, phase: 'starting', dueAt: this.o.clock.now() });
    });
  }

  /**
   * The run's image is for another architecture than CG2's nodes: the container's first exec fails
   * as it does on an arm64 node ("exec format error", status Error), without starting anything.
   */
  private execFormatError(record: PodRecord, problem: string): void {
    const at = this.o.clock.now();
    this.update(record, {
      phase: 'terminated',
      containerId: null,
      exitCode: 1,
      reason: 'Error',
      message: `exec format error: ${problem}`,
      startedAt: at,
      finishedAt: at,
    });
    this.o.logger.warn('pod image is not arm64', { user: record.username, pod: record.name, problem });
  }

  /** Makes sure of the volume and the network, clears the name, and creates and starts the container. */
  private async startContainer(record: PodRecord, imageId: string): Promise<string> {
    const volume = this.o.volumes.ref(record.username, record.spec.volume);
    this.o.volumes.ensure(volume);
    const name = containerName(record.username, record.name);
    const network = networkName(record.username);
    const limits = this.o.nodes.limits(record.spec.node);
    await this.o.runtime.ensureNetwork(network, record.username);
    await this.o.onboard?.ensure(record.username, network);
    await this.removeLeftover(name);
    const spec: ContainerSpec = {
      name,
      image: imageId,
      ...commandFor(record.spec),
      env: record.spec.envs ?? {},
      owner: { user: record.username, pod: record.name, generation: record.generation },
      volumeDir: this.o.volumes.hostPath(volume),
      network,
      aliases: this.o.shortNames ? [name, record.name] : [name],
      cpus: limits.cpus,
      memoryBytes: limits.memoryMb * 1024 * 1024,
    };
    return this.o.runtime.run(spec);
  }

  private async startFailed(record: PodRecord, err: unknown): Promise<void> {
    if (err instanceof SimError) {
      this.update(record, { phase: 'waiting', reason: 'RunContainerError', message: err.message });
      this.o.logger.warn('pod failed to start', { user: record.username, pod: record.name, error: err.message });
      return;
    }
    if (!(err instanceof StartFailure)) {
      // The engine did not answer: try again shortly rather than lose the run.
      const retryAt = this.o.clock.now() + ENGINE_RETRY_MS;
      this.update(record, { phase: 'scheduled', dueAt: retryAt, reason: 'EngineUnavailable' });
      this.o.armStart({ ...record, dueAt: retryAt });
      throw err;
    }
    const at = this.o.clock.now();
    if (err.atStart) {
      const leftover = await this.o.runtime.inspect(containerName(record.username, record.name));
      this.update(record, {
        phase: 'terminated',
        containerId: leftover?.id ?? null,
        exitCode: 128,
        reason: 'StartError',
        message: err.message,
        startedAt: null,
        finishedAt: at,
      });
    } else {
      this.update(record, { phase: 'waiting', reason: 'RunContainerError', message: err.message });
    }
    this.o.logger.warn('pod failed to start', { user: record.username, pod: record.name, error: err.message });
  }

  private update(record: PodRecord, changes: PodChanges): boolean {
    return this.o.store.update(record.username, record.name, record.generation, changes);
  }
}
