import type { SimConfig } from '../config/schema.ts';
import type { TokenService } from '../domain/auth/tokens.ts';
import { tokenIssuer } from '../simulator.ts';
import { CliError } from './errors.ts';

/** A token pair for a user, and how long the access token lives (seconds). */
export interface IssuedTokens {
  user: string;
  access: string;
  refresh: string;
  accessLifetimeSeconds: number;
}

/**
 * `em-sim token [USER]`: a token pair for a configured user (the first one by default), signed
 * with the secret the server uses on this data directory, so the server accepts it. Tokens carry
 * real time: the server's clock starts at real time (a clock moved through /sim/clock may see
 * them as not yet valid or expired).
 */
export async function issueTokens(config: SimConfig, user?: string): Promise<IssuedTokens> {
  const users = config.users.map((u) => u.username);
  if (!users.length) throw new CliError('no users are configured: add one under "users" in sim-config.yaml');
  const username = user ?? users[0]!;
  if (!users.includes(username)) {
    throw new CliError(`unknown user "${username}": the configured users are ${users.join(', ')} ("users" in sim-config.yaml)`);
  }
  let tokens: TokenService;
  try {
    tokens = tokenIssuer(config);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  const { access, refresh } = await tokens.issuePair(username);
  return { user: username, access, refresh, accessLifetimeSeconds: config.auth.access_token_lifetime };
}
