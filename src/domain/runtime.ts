import type { Readable } from 'node:stream';

/*
 * The container runtime as the pod and image services see it. The Docker adapter implements
 * it for real; tests of scheduling at scale use an in-memory fake.
 */

export interface ContainerSpec {
  name: string;
  /** An image id or a local reference that exists. */
  image: string;
  /** Replaces the image's ENTRYPOINT when set. */
  entrypoint?: string[];
  /** Replaces the image's CMD when set. */
  cmd?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** Host directory mounted read-write at /data. */
  volumeDir: string;
  network: string;
  /** Names the container answers to on its network. */
  aliases: string[];
  cpus: number;
  memoryBytes: number;
}

export interface ContainerState {
  id: string;
  running: boolean;
  exitCode: number | null;
  oomKilled: boolean;
  /** ISO times as the engine reports them; null when never started / not finished. */
  startedAt: string | null;
  finishedAt: string | null;
  /** The engine's error when the container could not start. */
  error: string | null;
  labels: Record<string, string>;
}

export interface ManagedContainer {
  id: string;
  name: string;
  labels: Record<string, string>;
  running: boolean;
}

export interface ImageInfo {
  id: string;
  repoTags: string[];
  size: number;
  created: string;
  architecture: string;
  labels: Record<string, string>;
}

/** Thrown by create/start when the engine refuses; the message is the engine's own. */
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

/** Thrown by build/load with the log lines the user should see. */
export class EngineLogFailure extends Error {
  override name = 'EngineLogFailure';
  constructor(
    message: string,
    readonly logLines: string[],
  ) {
    super(message);
  }
}

export interface BuildRequest {
  /** A tar stream of the build context, Dockerfile included. */
  context: Readable;
  /** The Dockerfile's path inside the context tar. */
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
}

export interface ContainerRuntime {
  /** Whether the engine answers; cheap enough to call per request. */
  available(): Promise<boolean>;
  /** A human description of where the engine is expected (for error messages). */
  describe(): string;
  /** What to tell a user when the engine does not answer: where we looked, what to start. */
  unavailableMessage(): string;

  ensureNetwork(name: string, labels: Record<string, string>): Promise<void>;
  removeNetwork(name: string): Promise<void>;

  inspectImage(ref: string): Promise<ImageInfo | null>;
  listImages(): Promise<ImageInfo[]>;
  /** Builds without network; resolves with the build log, rejects with EngineLogFailure. */
  build(request: BuildRequest): Promise<string[]>;
  /** Loads an image tar; resolves with the engine's output lines. */
  load(tar: Readable): Promise<string[]>;
  tagImage(source: string, target: string): Promise<void>;
  removeImage(ref: string): Promise<void>;

  /** Creates and starts a container; StartFailure when the engine refuses. */
  run(spec: ContainerSpec): Promise<string>;
  inspect(idOrName: string): Promise<ContainerState | null>;
  /** SIGTERM, then SIGKILL after graceSeconds. Resolves when stopped; a stopped one is fine. */
  stop(id: string, graceSeconds: number): Promise<void>;
  remove(id: string): Promise<void>;
  /** Every container carrying the given label filter. */
  listContainers(labelFilter: string[]): Promise<ManagedContainer[]>;
  /** Calls back whenever a matching container dies; returns an unsubscribe function. */
  onContainerExit(labelFilter: string[], listener: (id: string) => void): Promise<() => void>;
  /** The container's stdout and stderr so far (sim-only extra). */
  logs(id: string): Promise<{ stdout: string; stderr: string }>;
}
