// @ts-check
/**
 * em-sim as a Testcontainers module (`em-sim/testcontainers`, on testcontainers@11): the
 * simulator in its container image (the repository's Dockerfile, built by scripts/build-image.sh),
 * started from test code the way `@testcontainers/localstack` or `@testcontainers/azurite` start
 * theirs, with the host's Docker socket so that pods, builds and files work.
 *
 *   await using sim = await new EmSimContainer().withUser('client1', 'pw').start();
 *   const token = await sim.getAccessToken('client1');
 *   await fetch(`${sim.getBaseUrl()}/em/files/list`, { headers: { Authorization: `Bearer ${token}` } });
 *
 * The container is ephemeral (EM_SIM_EPHEMERAL=true): at stop, em-sim removes the pods, networks,
 * relays and images it made on the engine, and Testcontainers removes the container with its data
 * volume, so nothing is left behind. Waits for GET /sim/health to answer 200.
 * Plain JavaScript with types in index.d.ts, so it loads on Node 20 without a TypeScript step.
 */
import { AbstractStartedContainer, GenericContainer, getContainerRuntimeClient, Wait } from 'testcontainers';

/** The image started when none is named: EM_SIM_IMAGE, else em-sim:latest (scripts/build-image.sh tags it). */
export const DEFAULT_IMAGE = process.env.EM_SIM_IMAGE || 'em-sim:latest';
/** The port em-sim listens on inside the container. */
export const EM_SIM_PORT = 8000;
/** Where the image keeps its state (a volume). */
export const DATA_DIR = '/var/lib/em-sim';
/** Where a configuration given with withConfig() is written (the image reads ./sim-config.yaml there). */
export const CONFIG_PATH = '/etc/em-sim/sim-config.yaml';

/** A user of the simulator, as withUser() adds it. */
/** @typedef {{ username: string, password: string }} EmSimUser */

export class EmSimContainer extends GenericContainer {
  /** @type {EmSimUser[]} */
  #users = [];
  /** @type {string | null} */
  #config = null;
  /** @type {EmSimUser[] | null} */
  #configUsers = null;
  /** @type {string | null} */
  #socket = null;

  /** @param {string} [image] an em-sim image; default DEFAULT_IMAGE */
  constructor(image = DEFAULT_IMAGE) {
    super(image);
    this.withExposedPorts(EM_SIM_PORT)
      .withWaitStrategy(Wait.forHttp('/sim/health', EM_SIM_PORT).forStatusCode(200))
      .withStartupTimeout(120_000)
      .withLabels({ 'em-sim.testcontainers': 'true' });
  }

  /**
   * Adds an account (username: lowercase letters and digits, at most 31; config `users`). With
   * none, the simulator's default client1 / client1-password is the one account.
   * @param {string} username @param {string} password
   */
  withUser(username, password) {
    this.#users.push({ username, password });
    return this;
  }

  /**
   * A sim-config.yaml for the simulator: an object (written as JSON, which is YAML) or the text
   * of a file. Keys as in the README's "Configuration"; withUser() accounts replace `users`.
   * @param {Record<string, unknown> | string} config
   */
  withConfig(config) {
    this.#config = typeof config === 'string' ? config : JSON.stringify(config, null, 2);
    // Users given in an object are known to getUsers() and getAccessToken(); a text's are not read.
    const users = typeof config === 'object' && config !== null ? config.users : undefined;
    this.#configUsers = Array.isArray(users) ? users.map((u) => ({ username: String(u.username), password: String(u.password) })) : null;
    return this;
  }

  /**
   * The engine's socket on this machine, mounted into the container at /var/run/docker.sock
   * (default: the one Testcontainers found the engine through, as its own reaper is given).
   * @param {string} path
   */
  withDockerSocket(path) {
    this.#socket = path;
    return this;
  }

  /** @returns {Promise<StartedEmSimContainer>} */
  async start() {
    const socket = this.#socket ?? (await getContainerRuntimeClient()).info.containerRuntime.remoteSocketPath ?? '/var/run/docker.sock';
    this.withBindMounts([{ source: socket, target: '/var/run/docker.sock', mode: 'rw' }]);
    this.withEnvironment({ EM_SIM_EPHEMERAL: 'true' });
    for (const u of this.#users) {
      if (u.password.includes(',')) throw new Error(`withUser(${JSON.stringify(u.username)}): a password with "," cannot travel in EM_SIM_USERS; give users in withConfig({ users: [...] })`);
    }
    if (this.#users.length) {
      this.withEnvironment({ EM_SIM_USERS: this.#users.map((u) => `${u.username}:${u.password}`).join(',') });
    }
    if (this.#config !== null) this.withCopyContentToContainer([{ content: this.#config, target: CONFIG_PATH }]);
    const users = this.#users.length ? [...this.#users] : (this.#configUsers ?? [{ username: 'client1', password: 'client1-password' }]);
    return new StartedEmSimContainer(await super.start(), users);
  }
}

export class StartedEmSimContainer extends AbstractStartedContainer {
  /** @type {EmSimUser[]} */
  #users;

  /**
   * @param {import('testcontainers').StartedTestContainer} started
   * @param {EmSimUser[]} users
   */
  constructor(started, users) {
    super(started);
    this.#users = users;
  }

  /**
   * Stops the simulator and removes its container and data volume. em-sim gets SIGTERM and up to
   * 30 s (options.timeout, ms) to remove what it made on the engine before it is killed;
   * Testcontainers' own default, 0, would kill it first and leave its pods behind.
   * @param {Partial<import('testcontainers').StopOptions>} [options]
   */
  stop(options = {}) {
    return super.stop({ timeout: 30_000, ...options });
  }

  /** "http://localhost:PORT": the EM API (/auth/, /em/*) and em-sim's own /sim/* routes. */
  getBaseUrl() {
    return `http://${this.getHost()}:${this.getMappedPort(EM_SIM_PORT)}`;
  }

  /** The accounts the simulator has. @returns {EmSimUser[]} */
  getUsers() {
    return this.#users.map((u) => ({ ...u }));
  }

  /**
   * An access token for one of the accounts (POST /auth/; lifetime auth.access_token_lifetime,
   * 300 s by default). Throws for an unknown user or a refused login.
   * @param {string} [username] default: the first account
   * @returns {Promise<string>}
   */
  async getAccessToken(username = this.#users[0]?.username ?? 'client1') {
    const user = this.#users.find((u) => u.username === username);
    if (!user) throw new Error(`no user ${username} in this em-sim container (users: ${this.#users.map((u) => u.username).join(', ')}); add it with withUser()`);
    const res = await fetch(`${this.getBaseUrl()}/auth/`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(user),
    });
    if (!res.ok) throw new Error(`em-sim refused the login of ${username}: ${res.status} ${await res.text()}`);
    return /** @type {{ access: string }} */ (await res.json()).access;
  }

  /**
   * The data directory's path on the engine's machine (the container's volume): its
   * `volumes/USER/POD/` folders are what pods see at /data. Readable by root only, as Docker's
   * volumes are.
   * @returns {Promise<string>}
   */
  async getDataDir() {
    const client = await getContainerRuntimeClient();
    const info = await client.container.inspect(client.container.getById(this.getId()));
    const mount = (info.Mounts ?? []).find((m) => m.Destination === DATA_DIR);
    if (!mount?.Source) throw new Error(`the em-sim container has no volume at ${DATA_DIR}`);
    return mount.Source;
  }
}
