import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/*
 * The data directory's layout, and its small files that outlive the database: instance-id and
 * secret.key. The one place its names are spelt.
 */

/** What lives in DATA_DIR, by name. */
export const DATA_DIR = {
  /** The SQLite database (with -wal, -shm and -journal beside it). */
  database: 'em-sim.db',
  /** One folder per user, one per volume in it. */
  volumes: 'volumes',
  /** Uploads being received. */
  staging: 'tmp',
  /** What is being deleted. */
  trash: 'trash',
  /** The bytes of namespace files and task artifacts (operations), by key. */
  blobs: 'blobs',
  instanceId: 'instance-id',
  secret: 'secret.key',
} as const;

/** The simulator's state in a data directory, as `em-sim reset` removes it. */
export interface DataDirState {
  /** null when the data directory never ran a simulator. */
  instanceId: string | null;
  /** The database's files and the volume, staging, trash and blob folders that exist. */
  paths: string[];
  volumeCount: number;
}

/** What of the simulator's state a data directory holds (nothing is touched). */
export function dataDirState(dataDir: string): DataDirState {
  const db = DATA_DIR.database;
  const names = [db, `${db}-wal`, `${db}-shm`, `${db}-journal`, DATA_DIR.volumes, DATA_DIR.staging, DATA_DIR.trash, DATA_DIR.blobs];
  return {
    instanceId: existingInstanceId(dataDir),
    paths: names.map((name) => path.join(dataDir, name)).filter((p) => existsSync(p)),
    volumeCount: countVolumes(path.join(dataDir, DATA_DIR.volumes)),
  };
}

function countVolumes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let count = 0;
  for (const user of readdirSync(dir, { withFileTypes: true })) {
    if (user.isDirectory()) count += readdirSync(path.join(dir, user.name)).length;
  }
  return count;
}

/**
 * A small file of the data directory: read it, or make it with `make()` when it does not exist
 * yet. Two processes making it at once end up reading the same content (the loser of the
 * exclusive create reads the winner's). Throws an Error naming the file when it can do neither.
 */
export function readOrCreate(file: string, make: () => string, mode: number): string {
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    try {
      writeFileSync(file, make() + '\n', { mode, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return readFileSync(file, 'utf8').trim();
  } catch (err) {
    throw new Error(`cannot read or create ${file}: ${(err as Error).message}`);
  }
}

/**
 * DATA_DIR/secret.key, made on first use (64 hex characters): the server and `em-sim token` both
 * read it, so a token printed before the first start is accepted after it.
 */
export function signingSecretOf(dataDir: string): string {
  return readOrCreate(path.join(dataDir, DATA_DIR.secret), () => randomBytes(32).toString('hex'), 0o600);
}

/** DATA_DIR/instance-id (12 hex characters), made on first start: which engine objects are this simulator's. */
export function instanceIdOf(dataDir: string): string {
  return readOrCreate(path.join(dataDir, DATA_DIR.instanceId), () => randomBytes(6).toString('hex'), 0o644);
}

/** The instance id of a data directory that has run a simulator, or null (nothing is made). */
function existingInstanceId(dataDir: string): string | null {
  const file = path.join(dataDir, DATA_DIR.instanceId);
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}
