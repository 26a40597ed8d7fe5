import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type Docker from 'dockerode';
import type { Hono } from 'hono';
import { realClock } from './adapters/clock/real-clock.ts';
import { SimClock } from './adapters/clock/sim-clock.ts';
import { DockerImages } from './adapters/docker/docker-images.ts';
import { DockerRuntime } from './adapters/docker/docker-runtime.ts';
import { instanceFilter } from './adapters/docker/labels.ts';
import { connectDocker, DEFAULT_SOCKET, describeEngine, engineMissingMessage, engineVersion, pingEngine } from './adapters/docker/engine.ts';
import { DATA_DIR, dataDirState, instanceIdOf, signingSecretOf, type DataDirState } from './adapters/fs/data-dir-files.ts';
import { FsVolumeStore } from './adapters/fs/volume-store.ts';
import { JsonLogger } from './adapters/log/json-logger.ts';
import { SqliteDatabase } from './adapters/sqlite/database.ts';
import { SqliteHashStore } from './adapters/sqlite/hash-store.ts';
import { SqlitePodStore } from './adapters/sqlite/pod-store.ts';
import { SqliteVolumeIndex } from './adapters/sqlite/volume-index.ts';
import { standinRecipes } from './adapters/standins/recipes.ts';
import type { SimConfig, WindowConfig } from './config/schema.ts';
import { orbitWindow } from './domain/onboard/orbit-windows.ts';
import type { WindowSpec } from './domain/time/windows.ts';
import { TokenService, type TokenSettings } from './domain/auth/tokens.ts';
import { SatelliteTimelineService } from './domain/satellite-timeline.ts';
import { BusyWindows } from './domain/busy-windows.ts';
import { ClockControl } from './domain/clock-control.ts';
import { EngineStatus } from './domain/engine-status.ts';
import { FileService } from './domain/files/file-service.ts';
import { catalogEntries, findInCatalog, type CatalogEntry } from './domain/images/catalog.ts';
import { CatalogImages, type CatalogImageReport, type CatalogImagesOptions, type CatalogProgress } from './domain/images/catalog-images.ts';
import { resolvePlatform, type Platform } from './domain/images/platform.ts';
import { arm64Emulation, BINFMT_DIR, hostArchitecture, type Arm64Emulation } from './adapters/platform/host.ts';
import { configuredCatalog } from './config/provider-catalog.ts';
import { ImageService } from './domain/images/image-service.ts';
import { NodeSchedule, type NodesSettings } from './domain/nodes/node-schedule.ts';
import { NodeStatusService } from './domain/nodes/node-status.ts';
import { PodService } from './domain/pods/pod-service.ts';
import type { ContainerEngine, ContainerRuntime } from './domain/ports/container-runtime.ts';
import type { ImageStore } from './domain/ports/image-store.ts';
import type { Logger, LogLevel } from './domain/ports/logger.ts';
import { VolumeService } from './domain/volumes/volume-service.ts';
import { createApi } from './http/api.ts';
import type { AppEnv } from './http/env.ts';
import { listen } from './http/node-server.ts';
import type { RouteTable } from './http/route-table.ts';
import { VERSION } from './version.ts';
import { DockerServiceRelays, relayProblem, servicesNetworkName } from './adapters/docker/service-relays.ts';
import { onEngine } from './adapters/docker/instance-names.ts';
import { emSimThings, removeThings, type InstanceThings } from './adapters/docker/leftovers.ts';
import { FsCameraImages } from './adapters/fs/camera-images.ts';
import { SqliteUsageStore } from './adapters/sqlite/usage-store.ts';
import { LiquidTwin } from './domain/onboard/liquid.ts';
import { OllamaTwin } from './domain/onboard/ollama.ts';
import { OnboardAccess, ONBOARD_SERVICES, serviceNames, type OnboardAccessStatus } from './domain/onboard/onboard-access.ts';
import { Orbit } from './domain/onboard/orbit.ts';
import { ServiceUsage } from './domain/onboard/service-usage.ts';
import { TelemetryService } from './domain/onboard/telemetry.ts';
import type { ServiceListener } from './domain/ports/service-relays.ts';
import { liquidApp } from './http/onboard/liquid-app.ts';
import { ollamaApp } from './http/onboard/ollama-app.ts';
import { servicesRouter, type ServiceApps } from './http/onboard/services-app.ts';
import { telemetryApp } from './http/onboard/telemetry-app.ts';
import { FsBlobStore } from './adapters/fs/blob-store.ts';
import { EngineUnreachable, findSelf, inContainer, NotOnThisEngine, type ContainerSelf } from './adapters/docker/self-container.ts';
import { engineRunsArm64 } from './adapters/docker/arm64-probe.ts';
import { SqliteOperationStore } from './adapters/sqlite/operation-store.ts';
import { yamlOperationParser } from './adapters/yaml/operation-parser.ts';
import { checkOperation } from './domain/operations/check-operation.ts';
import type { OperationCheck } from './domain/operations/operation.ts';
import { NamespaceFiles } from './domain/operations/namespace-files.ts';
import { OperationService } from './domain/operations/operation-service.ts';

/*
 * The composition root: the one module that builds adapters, hands them to the domain's services
 * and mounts the HTTP layer on them (ARCHITECTURE.md). It also wires what the command line's
 * one-shot commands need (engine tools, tokens, a logger).
 */

export interface Simulator {
  app: Hono<AppEnv>;
  routes: RouteTable;
  config: SimConfig;
  clock: SimClock;
  logger: Logger;
  pods: PodService;
  /** DATA_DIR/instance-id: what on the engine is this simulator's. */
  instanceId: string;
  /** The onboard catalog's images on the engine (prepared on demand). */
  catalog: CatalogImages;
  /** The platform pods and builds run as. */
  platform: Platform;
  /** The telemetry twin (its orbit, records and frames), also when pods cannot reach it. */
  telemetry: TelemetryService;
  /** Operations and their executions. */
  operations: OperationService;
  /** With `prepareCatalog`: the preparation of images.prepare begun at start; else resolved with []. */
  preparation: Promise<CatalogImageReport[]>;
  /**
   * Resolves once the start's work on the engine is done: the pods recovered (or the engine found
   * away) and the executions resumed. The server answers before; never rejects (failures are logged).
   */
  ready: Promise<void>;
  close(): Promise<void>;
}

/** Replacements for tests: the logger, the engine. */
export interface SimulatorOptions {
  logger?: Logger;
  /** A container engine other than Docker (the scheduling tests' in-memory fake). */
  engine?: ContainerEngine;
  /** The environment the Docker engine is found through (DOCKER_HOST, …); default process.env. */
  dockerEnv?: NodeJS.ProcessEnv;
  /** Begin preparing images.prepare in the background once the engine answers (`em-sim start`). */
  prepareCatalog?: boolean;
  /** Hears the catalog's preparation progress (default: info log lines). */
  onCatalogProgress?: (progress: CatalogProgress) => void;
  /** How the catalog's images are made (tests switch pulling off). */
  catalogOptions?: CatalogImagesOptions;
}

/**
 * How long after the simulator is made it first asks the engine for its pods, unless a request
 * that needs the engine comes first (ms). Node.js's first HTTP request, to the engine's socket,
 * costs 25 ms of one core here (its agent compiles an IPv6 pattern on first use); a server that
 * has just printed its address is about to be asked, usually for /sim/health or a token.
 */
const ENGINE_ASKED_AFTER_MS = 100;

/** Builds the simulator on config.data_dir: the stores, the engine, the services and the API. */
export async function createSimulator(config: SimConfig, options: SimulatorOptions = {}): Promise<Simulator> {
  const logger = options.logger ?? createLogger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });
  // The signing secret first: a data directory that cannot give one fails before anything starts.
  const auth = tokenSettings(config);
  const dockerEnv = options.dockerEnv ?? process.env;
  const docker = options.engine ? null : connectDocker(dockerEnv);
  // Asked of the engine while SQLite opens (where /.dockerenv exists, a round trip to it); its
  // failure is thrown by the await below (the catch only keeps it handled if SQLite fails first).
  const selfAsked = docker ? containerSelf(docker, config.data_dir, dockerEnv, logger) : Promise.resolve(null);
  selfAsked.catch(() => {});
  const db = new SqliteDatabase(path.join(config.data_dir, DATA_DIR.database));
  const clock = new SimClock(config.clock.speed);
  const instanceId = instanceIdOf(config.data_dir);
  const tokens = new TokenService(auth, clock);
  const self = await selfAsked;
  const selfId = self?.id || null;
  const engine = options.engine ?? dockerEngine(docker!, instanceId, dockerEnv, self);

  const podStore = new SqlitePodStore(db);
  const hashes = new SqliteHashStore(db);
  const volumeStore = new FsVolumeStore(config.data_dir);
  const volumes = new VolumeService(volumeStore, new SqliteVolumeIndex(db), hashes, podStore, clock, config.compat.strict);
  const files = new FileService(volumeStore, volumes, hashes);
  // In a container the host's binfmt_misc is not mounted: the engine is asked instead.
  const emulatesArm64 = self && config.platform.architecture !== 'native' && arm64Emulation(BINFMT_DIR) === 'unmounted' ? await engineRunsArm64(docker!) : undefined;
  const platform = simulatorPlatform(config, BINFMT_DIR, emulatesArm64);
  const catalog = new CatalogImages(
    engine.images,
    standinRecipes,
    catalogEntries(configuredCatalog(config), config.images.registry),
    config.images.registry,
    platform,
    options.catalogOptions,
  );
  catalog.onProgress(options.onCatalogProgress ?? ((progress) => logger.info('catalog image', { ...progress })));
  const images = new ImageService(engine.images, volumes, volumeStore, catalog, hostArchitecture(), instanceId);
  const orbit = new Orbit(config.services.telemetry.tle);
  const nodes = new NodeSchedule(nodesSettings(config, orbit));
  const services = onboardServices(config, orbit, clock, new ServiceUsage(new SqliteUsageStore(db), clock), logger, docker, instanceId, selfId);
  const pods = new PodService({
    ...(services.access ? { onboard: services.access } : {}),
    store: podStore,
    runtime: engine.containers,
    images,
    volumes,
    nodes,
    clock,
    logger,
    stopGraceSeconds: 10,
    strict: config.compat.strict,
  });
  const engineStatus = new EngineStatus(engine.containers, pods, logger);
  const busyWindows = new BusyWindows(windowSpecs(config.busy_windows, config, orbit), clock);
  const operationStore = new SqliteOperationStore(db);
  const blobs = new FsBlobStore(config.data_dir);
  const namespaces = new NamespaceFiles(operationStore, blobs, clock, config.limits.uplink_max_bytes);
  const operations = new OperationService({
    store: operationStore,
    blobs,
    parser: yamlOperationParser,
    isOnboard: (image) => catalog.find(image) !== undefined,
    namespaces,
    files,
    volumes,
    images,
    pods,
    engine: engineStatus,
    busy: busyWindows,
    clock,
    logger,
    downlinkWaitSeconds: config.operations.downlink_wait_seconds,
    pollMs: 200,
  });

  // Before the server answers: a request could be writing a blob or a staging file by then.
  await operations.sweep();

  // The engine is asked for its pods (recovery) while the server already answers: every request
  // that needs the engine waits for that recovery (EngineStatus.check, which begins it if it has
  // not begun), the others need not. Begun ENGINE_ASKED_AFTER_MS in, so that the server's first
  // answers wait neither for the engine nor for Node.js building its first request to it.
  const engineStarted = delay(ENGINE_ASKED_AFTER_MS).then(() => engineStatus.start()).then(
    (up) => {
      if (up) {
        logger.info('platform', { mode: platform.mode, architecture: platform.architecture, catalog: catalog.entries.length });
      } else {
        logger.warn('no container engine: file endpoints work, pod and image endpoints answer 503', { engine: engine.containers.describe() });
        process.stderr.write(`em-sim: ${engine.containers.unavailableMessage()}\n`);
      }
      return up;
    },
    (err: Error) => {
      // The next request that needs the engine tries the recovery again (EngineStatus.require).
      logger.error('recovering the pods at start failed; tried again with the next pod request', { error: err.message });
      return false;
    },
  );
  const preparation = engineStarted.then((up) => (up && options.prepareCatalog ? prepareAtStart(catalog, config.images.prepare, logger) : []));

  const { app, routes } = createApi({
    tokens,
    files,
    volumes,
    images,
    pods,
    nodes: new NodeStatusService(nodes, podStore, clock),
    clockControl: new ClockControl(clock, config.clock.control),
    busyWindows,
    engine: engineStatus,
    logger,
    services: { apps: services.apps, usage: services.usage, access: services.status },
    operations: { operations, namespaces, uploadMaxBytes: config.limits.uplink_max_bytes },
    satellite: new SatelliteTimelineService({ orbit, nodes, busy: busyWindows, clock, pods: podStore, eclipse: windowSpecs(['eclipse'], config, orbit) }),
    settings: {
      version: VERSION,
      uplinkMaxBytes: config.limits.uplink_max_bytes,
      downlinkBase64: config.compat.downlink_base64,
      strict: config.compat.strict,
      oneRequestPerUser: config.limits.one_request_per_user,
    },
  });

  // After the pods' recovery (EngineStatus.start): a resumed pod task finds its pod adopted.
  const ready = engineStarted.then(() => operations.resume()).catch((err: Error) => logger.error('resuming the executions at start failed', { error: err.message }));

  return {
    app,
    routes,
    config,
    clock,
    logger,
    pods,
    operations,
    instanceId,
    catalog,
    platform,
    preparation,
    ready,
    telemetry: services.telemetry,
    async close() {
      // What the start began on the engine ends first: a recovery finishing after close would watch the engine again.
      await ready;
      await operations.close();
      pods.close();
      await services.access?.close().catch((err: Error) => logger.warn('removing the services relays failed', { error: err.message }));
      if (config.ephemeral && docker) await removeInstanceThings(docker, instanceId, logger);
      clock.close();
      db.close();
    },
  };
}

/** A simulator that serves on `url`; close() stops serving and closes the simulator. */
export interface RunningSimulator {
  sim: Simulator;
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Builds the simulator and listens on config.server; resolves once it serves requests. */
export async function startServer(config: SimConfig, options: SimulatorOptions = {}): Promise<RunningSimulator> {
  const sim = await createSimulator(config, options);
  let server;
  try {
    server = await listen(sim.app.fetch, config.server.host, config.server.port);
  } catch (err) {
    await sim.close();
    throw err;
  }
  return {
    sim,
    url: server.url,
    port: server.address.port,
    async close() {
      await server.close();
      await sim.close();
    },
  };
}

/**
 * Checks operation files without a simulator (`em-sim operation validate`, `run`): the same parser
 * and rules the server uses, with the configuration's onboard catalog (read once per checker)
 * telling which pod images are onboard.
 */
export function operationChecker(config?: SimConfig): (text: string, fileName?: string) => OperationCheck {
  const entries = config ? catalogEntries(configuredCatalog(config), config.images.registry) : null;
  const isOnboard = entries && config ? (image: string) => findInCatalog(entries, image, config.images.registry) !== undefined : undefined;
  return (text, fileName) => checkOperation(yamlOperationParser.parse(text), { ...(fileName === undefined ? {} : { fileName }), ...(isOnboard ? { isOnboard } : {}) });
}

/** The JSON-lines logger on stderr. */
export function createLogger(level: LogLevel): Logger {
  return new JsonLogger(level);
}

/**
 * Tokens as the server on this configuration signs them, on the real clock (`em-sim token`; the
 * server's simulated clock starts at real time). Throws an Error naming the secret file when it
 * can neither be read nor made.
 */
export function tokenIssuer(config: SimConfig): TokenService {
  return new TokenService(tokenSettings(config), realClock);
}

/** The Docker engine as the command line's one-shot commands use it (images, doctor, reset). */
export interface EngineTools {
  /** Where the engine is expected, in words: "unix:///var/run/docker.sock". */
  describe(): string;
  /** The line to show when no engine answers: where we looked and what to do. */
  missingMessage(): string;
  /** The local socket used when DOCKER_HOST is not set. */
  defaultSocket: string;
  /** null when the engine answers within timeoutMs, else why not (ENOENT, EACCES, TIMEOUT, …). */
  ping(timeoutMs: number): Promise<string | null>;
  /** "28.2.2 (linux/amd64)", or null. */
  version(): Promise<string | null>;
  containers: ContainerRuntime;
  images: ImageStore;
  /** The configured catalog on this engine, for the configured platform (`em-sim images`, doctor). */
  catalog: CatalogImages;
  platform: Platform;
  /** Why pods could not reach the onboard services here, or null (doctor). */
  servicesProblem(): Promise<string | null>;
  /** Removes the instance's services relays and network (reset). */
  removeServices(): Promise<void>;
  /** What every em-sim instance has on the engine (doctor, reset --all-instances). */
  instances(): Promise<InstanceThings[]>;
  /** Removes one instance's containers, networks and users' images. */
  removeInstance(things: InstanceThings): Promise<{ removed: string[]; failed: string[] }>;
}

/**
 * Connects to the Docker engine that DOCKER_HOST names (else the local socket). `instanceId`
 * selects whose containers `containers` lists (reset). Throws an Error for a DOCKER_HOST that is
 * not unix:// or tcp://.
 */
export function engineTools(
  config: SimConfig,
  options: { env?: NodeJS.ProcessEnv; instanceId?: string; catalogOptions?: CatalogImagesOptions } = {},
): EngineTools {
  const env = options.env ?? process.env;
  const docker = connectDocker(env);
  const engine = dockerEngine(docker, options.instanceId ?? '', env);
  const platform = simulatorPlatform(config);
  const entries = catalogEntries(configuredCatalog(config), config.images.registry);
  const catalog = new CatalogImages(engine.images, standinRecipes, entries, config.images.registry, platform, options.catalogOptions);
  return {
    describe: () => describeEngine(env),
    missingMessage: () => engineMissingMessage(env),
    defaultSocket: DEFAULT_SOCKET,
    ping: (timeoutMs) => pingEngine(docker, timeoutMs),
    version: () => engineVersion(docker),
    ...engine,
    catalog,
    platform,
    servicesProblem: () => relayProblem(docker),
    removeServices: () => new DockerServiceRelays(docker, options.instanceId ?? '').removeAll(),
    instances: () => emSimThings(docker),
    removeInstance: (things) => removeThings(docker, things),
  };
}

/**
 * The platform pods and builds run as: platform.architecture resolved against this machine (arm64
 * when it runs or emulates arm64, for `auto`). Throws for `arm64` where neither is possible.
 * `emulatesArm64`, when given, replaces reading binfmt_misc (em-sim in a container asks the engine).
 */
export function simulatorPlatform(config: SimConfig, binfmtDir: string = BINFMT_DIR, emulatesArm64?: boolean): Platform {
  return resolvePlatform(config.platform.architecture, { architecture: hostArchitecture(), emulatesArm64: emulatesArm64 ?? arm64Emulation(binfmtDir) === 'enabled' });
}

/** Whether qemu-aarch64 is registered with binfmt_misc here (doctor). */
export function arm64EmulationState(binfmtDir: string = BINFMT_DIR): Arm64Emulation {
  return arm64Emulation(binfmtDir);
}

export { BINFMT_DIR };

/** What of the simulator's state config.data_dir holds, for `em-sim reset` (nothing is touched). */
export function simulatorState(config: SimConfig): DataDirState {
  return dataDirState(config.data_dir);
}

/** The label that marks an instance's containers on the engine: "em-sim.instance=ID". */
export function instanceLabel(instanceId: string): string {
  return instanceFilter(instanceId)[0]!;
}

// ---- translations of the configuration into the domain's terms ----

/** The onboard services: the twins, their HTTP apps, and (on Docker) how pods reach them. */
function onboardServices(
  config: SimConfig,
  orbit: Orbit,
  clock: SimClock,
  usage: ServiceUsage,
  logger: Logger,
  docker: Docker | null,
  instanceId: string,
  selfContainer: string | null,
) {
  const s = config.services;
  const telemetry = new TelemetryService(orbit, clock, new FsCameraImages(s.telemetry.images_dir ?? null), {
    intervalSeconds: s.telemetry.interval_seconds,
    historyHours: s.telemetry.history_hours,
  });
  const apps: ServiceApps = {};
  if (s.telemetry.enabled) apps.telemetry = telemetryApp(telemetry);
  if (s.ollama.enabled) apps.ollama = ollamaApp(new OllamaTwin(clock, usage, s.ollama.version), clock, s.pace);
  if (s.liquidai.enabled) apps.liquidai = liquidApp(new LiquidTwin(clock, usage), clock, s.pace);
  const names = ONBOARD_SERVICES.filter((service) => apps[service]).flatMap(serviceNames);
  let access: OnboardAccess | null = null;
  if (docker && names.length) {
    const router = servicesRouter(apps, (address) => access?.userAt(address), logger);
    let server: Awaited<ReturnType<typeof listen>> | null = null;
    const listener: ServiceListener = {
      async listen(host) {
        server = await listen(router.fetch as Parameters<typeof listen>[0], host, 0);
        return server.address.port;
      },
      async close() {
        await server?.close();
        server = null;
      },
    };
    access = new OnboardAccess(new DockerServiceRelays(docker, instanceId, selfContainer), listener, names, logger);
  }
  const status = (): OnboardAccessStatus =>
    access?.status() ?? { names, users: [], problem: names.length ? 'pods cannot reach the services: no Docker engine' : 'every service is turned off' };
  return { telemetry, apps, usage, access, status };
}

/** The instance's services network, and the engine's name of an instance's network or container, for `em-sim reset`. */
export { servicesNetworkName, onEngine as engineName };
export type { InstanceThings };

/** Both engine ports on one Docker connection, for the instance's containers and images. */
function dockerEngine(docker: Docker, instanceId: string, env: NodeJS.ProcessEnv, self: ContainerSelf | null = null): ContainerEngine {
  const enginePath = self ? (p: string) => self.enginePath(p) : undefined;
  return { containers: new DockerRuntime(docker, instanceId, env, enginePath), images: new DockerImages(docker, instanceId) };
}

/**
 * em-sim in a container (the image, the Testcontainers module): its own container and data mount
 * on the engine, so that pods' volumes and the services listener are where the engine's siblings
 * reach them (self-container.ts). null on a host, in a container whose engine runs inside it
 * (paths are shared), and while no engine answers (pods cannot run then anyway; a restart once it
 * answers picks the mount up). Throws when the data directory is on no mount, or when the image
 * (EM_SIM_IN_CONTAINER=1) is on an engine that does not know it: pods would not see their files.
 */
async function containerSelf(docker: Docker, dataDir: string, env: NodeJS.ProcessEnv, logger: Logger): Promise<ContainerSelf | null> {
  if (!inContainer(env)) return null;
  // The image sets EM_SIM_IN_CONTAINER=1; /.dockerenv alone is only a hint (an engine inside this
  // same container shares its paths, and does not know the container).
  const image = env.EM_SIM_IN_CONTAINER === '1';
  try {
    const self = await findSelf(docker, dataDir);
    logger.info('running in a container', { container: self.id.slice(0, 12), data_dir: dataDir, on_engine: self.mount.source, mount: self.mount.type });
    return self;
  } catch (err) {
    if (err instanceof NotOnThisEngine && !image) return null;
    if (!(err instanceof EngineUnreachable)) throw err;
    logger.warn('em-sim runs in a container but no engine answers: pods cannot start until em-sim is restarted with one', { problem: err.message });
    if (!image) return null;
    // The image must never hand the engine its own paths as if they were the host's: a pod
    // would get a host folder of that name, shared with every other such simulator.
    return {
      id: '',
      enginePath() {
        throw new Error(
          'em-sim runs in a container and found no Docker engine when it started, so it does not know where its data directory is on the engine: restart it with the engine answering (-v /var/run/docker.sock:/var/run/docker.sock)',
        );
      },
    };
  }
}

/** An ephemeral instance's stop: its pods, relays, networks and users' images leave the engine. */
async function removeInstanceThings(docker: Docker, instanceId: string, logger: Logger): Promise<void> {
  try {
    const things = (await emSimThings(docker)).find((t) => t.instance === instanceId);
    if (!things) return;
    const { removed, failed } = await removeThings(docker, things);
    logger.info('ephemeral: removed what this instance made on the engine', { removed: removed.length, failed });
  } catch (err) {
    logger.warn('ephemeral: removing what this instance made on the engine failed', { error: (err as Error).message });
  }
}

/** auth.*: the signing secret is auth.signing_secret, else DATA_DIR/secret.key (made on first use). */
function tokenSettings(config: SimConfig): TokenSettings {
  const secret = config.auth.signing_secret ?? signingSecretOf(config.data_dir);
  return {
    secret: new TextEncoder().encode(secret),
    accessLifetimeSeconds: config.auth.access_token_lifetime,
    refreshLifetimeSeconds: config.auth.refresh_token_lifetime,
    users: config.users,
  };
}

function nodesSettings(config: SimConfig, orbit: Orbit): NodesSettings {
  const node = (n: SimConfig['nodes']['FPGA']) => ({
    cpus: n.cpus,
    memoryMb: n.memory_mb,
    ...(n.availability ? { availability: windowSpecs(n.availability, config, orbit) } : {}),
  });
  return { FPGA: node(config.nodes.FPGA), GPU: node(config.nodes.GPU), MPU: node(config.nodes.MPU), onUnavailable: config.nodes.on_unavailable };
}

/** Configured windows in the domain's terms: an orbit window's name becomes the window on the flown orbit. */
function windowSpecs(windows: WindowConfig[], config: SimConfig, orbit: Orbit): WindowSpec[] {
  const g = config.services.telemetry.ground_station;
  const station = { latitude: g.latitude, longitude: g.longitude, altitudeM: g.altitude_m, minElevationDeg: g.min_elevation_deg };
  return windows.map((w) => (typeof w === 'string' ? orbitWindow(w, orbit, station) : w));
}

/** Begins preparing the images.prepare entries that are onboard; the others are reported and skipped. */
function prepareAtStart(catalog: CatalogImages, refs: string[], logger: Logger): Promise<CatalogImageReport[]> {
  const entries: CatalogEntry[] = [];
  for (const ref of refs) {
    const entry = catalog.find(ref);
    if (entry) entries.push(entry);
    else logger.warn('images.prepare names an image that is not onboard; skipped', { image: ref });
  }
  return catalog.ensure(entries);
}
