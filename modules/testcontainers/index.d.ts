import { AbstractStartedContainer, GenericContainer, type StartedTestContainer, type StopOptions, type StoppedTestContainer } from 'testcontainers';

/** The image started when none is named: EM_SIM_IMAGE, else em-sim:latest (scripts/build-image.sh tags it). */
export declare const DEFAULT_IMAGE: string;
/** The port em-sim listens on inside the container. */
export declare const EM_SIM_PORT: 8000;
/** Where the image keeps its state (a volume). */
export declare const DATA_DIR: '/var/lib/em-sim';
/** Where a configuration given with withConfig() is written. */
export declare const CONFIG_PATH: '/etc/em-sim/sim-config.yaml';

/** An account of the simulator. */
export interface EmSimUser {
  username: string;
  password: string;
}

/**
 * em-sim in its container image, started with the host's Docker socket so that pods, builds and
 * files work; ephemeral: stopping it leaves none of its containers, networks, volumes or users'
 * images behind (the catalog's stand-in images are the engine's and stay, as on a host).
 */
export declare class EmSimContainer extends GenericContainer {
  constructor(image?: string);
  /** Adds an account (lowercase letters and digits, at most 31); with none, client1 / client1-password. */
  withUser(username: string, password: string): this;
  /** A sim-config.yaml: an object (its `users` become getUsers()'s) or the file's text (README "Configuration"). */
  withConfig(config: Record<string, unknown> | string): this;
  /** The engine's socket on this machine (default: the one Testcontainers uses). */
  withDockerSocket(path: string): this;
  start(): Promise<StartedEmSimContainer>;
}

export declare class StartedEmSimContainer extends AbstractStartedContainer {
  constructor(started: StartedTestContainer, users: EmSimUser[]);
  /** Stops em-sim (SIGTERM, up to 30 s to clean the engine) and removes its container and volume. */
  stop(options?: Partial<StopOptions>): Promise<StoppedTestContainer>;
  /** "http://localhost:PORT". */
  getBaseUrl(): string;
  /** The accounts the simulator has. */
  getUsers(): EmSimUser[];
  /** An access token (POST /auth/) for one of the accounts; default the first. */
  getAccessToken(username?: string): Promise<string>;
  /** The data directory's path on the engine's machine (the container's volume). */
  getDataDir(): Promise<string>;
}
