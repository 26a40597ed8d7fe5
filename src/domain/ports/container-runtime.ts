import type { ImageStore } from './image-store.ts';

/*
 * The container runtime as the pod service sees it: networks, containers and their exits.
 * Implemented by src/adapters/docker/docker-runtime.ts on a real Docker engine; tests of
 * scheduling at scale use an in-memory fake (test/helpers/fake-runtime.ts).
 *
 * Everything a runtime creates belongs to one simulator instance: the adapter marks it so (on
 * Docker, with labels) and lists, watches and adopts only its own.
 */

/** Which run of which pod a container is: a restart recognises its containers by this. */
export interface PodOwner {
  user: string;
  pod: string;
  /** The run's generation (PodRecord.generation). */
  generation: number;
}

/** A pod's container, as the pod starter asks for it. */
export interface ContainerSpec {
  /** USER-POD: the container's name, host name and first network alias. */
  name: string;
  /** An image id or a local reference that exists. */
  image: string;
  /** Replaces the image's ENTRYPOINT when set. */
  entrypoint?: string[];
  /** Replaces the image's CMD when set. */
  cmd?: string[];
  env: Record<string, string>;
  owner: PodOwner;
  /** The volume's directory on the host (VolumeStore.hostPath), mounted read-write at /data. */
  volumeDir: string;
  network: string;
  /** Names the container answers to on its network. */
  aliases: string[];
  /** CPU limit, in CPUs (fractions allowed); capped at what the host has. */
  cpus: number;
  /** Memory limit in bytes, swap included. */
  memoryBytes: number;
}

/** A container as the engine reports it. */
export interface ContainerState {
  id: string;
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
  /** ISO times in real time, as the engine reports them; null when never started / not finished. */
  startedAt: string | null;
  finishedAt: string | null;
  /** The engine's error when the container could not start. */
  error: string | null;
  /** Whether an em-sim (any instance) created it: others are never removed. */
  managed: boolean;
}

/** A container of this simulator instance. */
export interface OwnedContainer {
  id: string;
  name: string;
  /** null when the container carries no (readable) owner: an orphan. */
  owner: PodOwner | null;
  running: boolean;
  /** true for the relay that brings the onboard services onto a user's network (not a pod, not an orphan). */
  relay?: boolean;
}

/** Thrown by run() when the engine refuses; the message is the engine's own. */
export class StartFailure extends Error {
  override name = 'StartFailure';
  constructor(
    message: string,
    /** true when the container was created but its process could not be started. */
    readonly atStart: boolean,
  ) {
    super(message);
  }
}

/** The port itself: engine errors other than StartFailure mean the engine did not answer. */
export interface ContainerRuntime {
  /** Whether the engine answers; cheap enough to call per request. */
  available(): Promise<boolean>;
  /** A human description of where the engine is expected (for error messages). */
  describe(): string;
  /** What to tell a user when the engine does not answer: where we looked, what to start. */
  unavailableMessage(): string;

  /** Creates the user's private network (no route out); idempotent. */
  ensureNetwork(name: string, user: string): Promise<void>;
  /** Removes a network; resolves false when there was none of that name. */
  removeNetwork(name: string): Promise<boolean>;

  /** Creates and starts a container; StartFailure when the engine refuses. */
  run(spec: ContainerSpec): Promise<string>;
  /** null when no container has that id or name. */
  inspect(idOrName: string): Promise<ContainerState | null>;
  /** SIGTERM, then SIGKILL after graceSeconds. Resolves when stopped; a stopped one is fine. */
  stop(id: string, graceSeconds: number): Promise<void>;
  /** Removes a container, killing it if it runs; a missing one is fine. */
  remove(id: string): Promise<void>;
  /** Every container of this simulator instance, running or not. */
  listContainers(): Promise<OwnedContainer[]>;
  /** Calls back whenever a container of this instance dies; returns an unsubscribe function. */
  onContainerExit(listener: (id: string) => void): Promise<() => void>;
  /** The container's stdout and stderr so far (sim-only extra). */
  logs(id: string): Promise<{ stdout: string; stderr: string }>;
}

/** The two engine ports together, as one engine (Docker) provides them. */
export interface ContainerEngine {
  containers: ContainerRuntime;
  images: ImageStore;
}
