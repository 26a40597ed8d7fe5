import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/*
 * The small files of the data directory that outlive the database: instance-id and secret.key.
 */

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
  return readOrCreate(path.join(dataDir, 'secret.key'), () => randomBytes(32).toString('hex'), 0o600);
}

/** DATA_DIR/instance-id (12 hex characters), made on first start: which engine objects are this simulator's. */
export function instanceIdOf(dataDir: string): string {
  return readOrCreate(path.join(dataDir, 'instance-id'), () => randomBytes(6).toString('hex'), 0o644);
}

/** The instance id of a data directory that has run a simulator, or null (nothing is made). */
export function existingInstanceId(dataDir: string): string | null {
  const file = path.join(dataDir, 'instance-id');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() || null : null;
}
