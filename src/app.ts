import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { SimClock } from './adapters/clock/sim-clock.ts';
import { DockerRuntime } from './adapters/docker/docker-runtime.ts';
import { connectDocker } from './adapters/docker/engine.ts';
import { readOrCreate, tokenSettings } from './adapters/fs/data-dir-files.ts';
import { openDatabase, type Db } from './adapters/sqlite/database.ts';
import { HashCache } from './adapters/sqlite/hash-cache.ts';
import { PodRepo } from './adapters/sqlite/pod-repo.ts';
import type { SimConfig } from './config/schema.ts';
import { catalogEntries, type CatalogEntry } from './domain/catalog.ts';
import { FileService } from './domain/files.ts';
import { ImageService } from './domain/images.ts';
import { NodeSchedule } from './domain/nodes.ts';
import { PodService } from './domain/pods.ts';
import type { ContainerRuntime } from './domain/runtime.ts';
import { TokenService } from './domain/tokens.ts';
import { VolumeService } from './domain/volumes.ts';
import type { AppEnv } from './http/env.ts';
import { createHttpApp } from './http/app.ts';
import type { RouteTable } from './http/route-table.ts';
import { Logger } from './logger.ts';
import { VERSION } from './version.ts';

export interface Simulator {
  app: Hono<AppEnv>;
  routes: RouteTable;
  config: SimConfig;
  clock: SimClock;
  db: Db;
  logger: Logger;
  pods: PodService;
  runtime: ContainerRuntime;
  instanceId: string;
  close(): Promise<void>;
}

export interface SimulatorOptions {
  logger?: Logger;
  /** A container runtime other than the Docker engine (tests of scheduling at scale). */
  runtime?: ContainerRuntime;
}

/** The one wiring point: builds adapters, hands them to services, mounts the routes. */
export async function createSimulator(config: SimConfig, options: SimulatorOptions = {}): Promise<Simulator> {
  const logger = options.logger ?? new Logger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });
  const db = openDatabase(path.join(config.data_dir, 'em-sim.db'));
  const clock = new SimClock(config.clock.speed);
  const instanceId = readOrCreate(path.join(config.data_dir, 'instance-id'), () => randomBytes(6).toString('hex'), 0o644);

  const tokens = new TokenService(tokenSettings(config), clock);
  const volumes = new VolumeService(config.data_dir, db, clock);
  const hashes = new HashCache(db);
  const files = new FileService(config.data_dir, volumes, hashes);
  const runtime = options.runtime ?? new DockerRuntime(connectDocker());
  const labels = { 'em-sim.managed': 'true', 'em-sim.instance': instanceId };
  const catalog = catalogEntries(config.images);
  const images = new ImageService(runtime, volumes, catalog, config.images.registry, labels);
  const nodes = new NodeSchedule(config.nodes);
  const pods = new PodService(new PodRepo(db), runtime, images, volumes, nodes, clock, logger, {
    instanceId,
    stopGraceSeconds: 10,
    shortNames: !config.compat.strict,
  });

  // Recovery runs whenever the engine is seen answering after it was not (or at start-up):
  // containers may have finished unobserved meanwhile, and the exit watch must be renewed.
  let recovered: Promise<void> | null = null;
  const engineUp = () => {
    recovered ??= pods.recover().catch((err) => {
      recovered = null;
      throw err;
    });
    return recovered;
  };
  const engineDown = () => {
    if (recovered) logger.warn('container engine stopped answering', { engine: runtime.describe() });
    recovered = null;
  };
  if (await runtime.available()) {
    await engineUp();
    await warnAboutMissingCatalog(runtime, catalog, logger);
  } else {
    logger.warn('no container engine: file endpoints work, pod and image endpoints answer 503', { engine: runtime.describe() });
    process.stderr.write(`em-sim: ${runtime.unavailableMessage()}\n`);
  }

  const { app, routes } = createHttpApp({
    tokens,
    hashes,
    files,
    volumes,
    images,
    pods,
    runtime,
    clock,
    logger,
    engine: {
      async available() {
        const up = await runtime.available();
        if (!up) engineDown();
        return up;
      },
      missingMessage: () => runtime.unavailableMessage(),
      onAvailable: engineUp,
    },
    uplinkMaxBytes: config.limits.uplink_max_bytes,
    downlinkBase64: config.compat.downlink_base64,
    strict: config.compat.strict,
    version: VERSION,
    nodes,
    clockControl: config.clock.control,
    busyWindows: config.busy_windows,
    oneRequestPerUser: config.limits.one_request_per_user,
  });

  return {
    app,
    routes,
    config,
    clock,
    db,
    logger,
    pods,
    runtime,
    instanceId,
    async close() {
      pods.close();
      clock.close();
      db.close();
    },
  };
}

async function warnAboutMissingCatalog(runtime: ContainerRuntime, catalog: CatalogEntry[], logger: Logger): Promise<void> {
  const missing: string[] = [];
  for (const entry of catalog) if (!(await runtime.inspectImage(entry.ref))) missing.push(entry.ref);
  if (!missing.length) return;
  logger.warn('catalog images missing: pods using them will show ErrImagePull', { missing });
  process.stderr.write(`em-sim: catalog images missing (${missing.join(', ')}): run \`npx em-sim images\` once\n`);
}
