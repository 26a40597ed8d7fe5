import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { SimClock } from './adapters/clock/sim-clock.ts';
import { openDatabase, type Db } from './adapters/sqlite/database.ts';
import { HashCache } from './adapters/sqlite/hash-cache.ts';
import type { SimConfig } from './config/schema.ts';
import { FileService } from './domain/files.ts';
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
  close(): Promise<void>;
}

/** The one wiring point: builds adapters, hands them to services, mounts the routes. */
export async function createSimulator(config: SimConfig, options: { logger?: Logger } = {}): Promise<Simulator> {
  const logger = options.logger ?? new Logger(config.log.level);
  mkdirSync(config.data_dir, { recursive: true });
  const db = openDatabase(path.join(config.data_dir, 'em-sim.db'));
  const clock = new SimClock(config.clock.speed);

  const tokens = new TokenService(
    {
      secret: signingSecret(config),
      accessLifetimeSeconds: config.auth.access_token_lifetime,
      refreshLifetimeSeconds: config.auth.refresh_token_lifetime,
      users: config.users,
    },
    clock,
  );
  const volumes = new VolumeService(config.data_dir, db, clock);
  const files = new FileService(config.data_dir, volumes, new HashCache(db));

  const { app, routes } = createHttpApp({
    tokens,
    files,
    volumes,
    logger,
    uplinkMaxBytes: config.limits.uplink_max_bytes,
    downlinkBase64: config.compat.downlink_base64,
    strict: config.compat.strict,
    version: VERSION,
  });

  return {
    app,
    routes,
    config,
    clock,
    db,
    logger,
    async close() {
      clock.close();
      db.close();
    },
  };
}

/** The configured secret, else one generated on first start and kept in the data directory. */
function signingSecret(config: SimConfig): Uint8Array {
  if (config.auth.signing_secret) return new TextEncoder().encode(config.auth.signing_secret);
  const file = path.join(config.data_dir, 'secret.key');
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
  return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
}
