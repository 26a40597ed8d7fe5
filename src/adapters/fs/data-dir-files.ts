import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SimConfig } from '../../config/schema.ts';
import type { TokenSettings } from '../../domain/tokens.ts';

/**
 * A small file of the data directory (instance-id, secret.key): read it, or make it with
 * `make()` when it does not exist yet. Two processes making it at once end up reading the
 * same content (the loser of the exclusive create reads the winner's).
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
 * How tokens are signed and for how long they live. The secret is auth.signing_secret when
 * configured, else DATA_DIR/secret.key, made on first use: the server and `em-sim token` both
 * read it here, so a token printed before the first start is accepted after it.
 */
export function tokenSettings(config: SimConfig): TokenSettings {
  const secret =
    config.auth.signing_secret ?? readOrCreate(path.join(config.data_dir, 'secret.key'), () => randomBytes(32).toString('hex'), 0o600);
  return {
    secret: new TextEncoder().encode(secret),
    accessLifetimeSeconds: config.auth.access_token_lifetime,
    refreshLifetimeSeconds: config.auth.refresh_token_lifetime,
    users: config.users,
  };
}
