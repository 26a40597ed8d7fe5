import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SimConfig } from '../config/schema.ts';
import type { Clock } from '../domain/clock.ts';
import { TokenService } from '../domain/tokens.ts';
import { CliError } from './errors.ts';

export interface IssuedTokens {
  user: string;
  access: string;
  refresh: string;
  accessLifetimeSeconds: number;
}

/**
 * `em-sim token [USER]`: a token pair for a configured user (the first one by default), signed
 * with the secret the server uses on this data directory, so the server accepts it.
 */
export async function issueTokens(config: SimConfig, user?: string): Promise<IssuedTokens> {
  const users = config.users.map((u) => u.username);
  if (!users.length) throw new CliError('no users are configured: add one under "users" in sim-config.yaml');
  const username = user ?? users[0]!;
  if (!users.includes(username)) {
    throw new CliError(`unknown user "${username}": the configured users are ${users.join(', ')} ("users" in sim-config.yaml)`);
  }
  const tokens = new TokenService(
    {
      secret: signingSecret(config),
      accessLifetimeSeconds: config.auth.access_token_lifetime,
      refreshLifetimeSeconds: config.auth.refresh_token_lifetime,
      users: config.users,
    },
    REAL_CLOCK,
  );
  const { access, refresh } = await tokens.issuePair(username);
  return { user: username, access, refresh, accessLifetimeSeconds: config.auth.access_token_lifetime };
}

/**
 * The server's rule (src/app.ts): auth.signing_secret when configured, else the secret kept in
 * DATA_DIR/secret.key, made on first use. Making it here is what the server would do on its
 * first start, so a token issued before the first start is accepted after it.
 */
export function signingSecret(config: SimConfig): Uint8Array {
  if (config.auth.signing_secret) return new TextEncoder().encode(config.auth.signing_secret);
  const file = path.join(config.data_dir, 'secret.key');
  try {
    mkdirSync(config.data_dir, { recursive: true });
    try {
      writeFileSync(file, randomBytes(32).toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
  } catch (err) {
    throw new CliError(`cannot read the signing secret ${file}: ${(err as Error).message}`);
  }
}

// Tokens carry real time: the server's clock starts at real time (a clock moved through
// /sim/clock may see them as not yet valid or expired).
const REAL_CLOCK: Clock = {
  now: () => Date.now(),
  at: () => () => {},
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};
