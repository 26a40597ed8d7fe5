import { randomUUID, timingSafeEqual } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import type { Clock } from '../ports/clock.ts';

/** SimpleJWT's token_type claim. */
export type TokenType = 'access' | 'refresh';

/** How tokens are signed, how long they live (seconds), and whose they can be. */
export interface TokenSettings {
  /** The HS256 key. */
  secret: Uint8Array;
  accessLifetimeSeconds: number;
  refreshLifetimeSeconds: number;
  users: { username: string; password: string }[];
}

/** Why a token was refused, in SimpleJWT's words (they end up in the 401 body). */
export class TokenRejected extends Error {
  override name = 'TokenRejected';
}

interface CachedToken {
  username: string;
  exp: number;
}

// Verifying an HS256 signature costs more CPU than serving a small request; clients send the
// same access token many times, so a verified token is remembered until it expires.
const CACHE_LIMIT = 10_000;

/**
 * Issues and checks tokens the way Django REST framework SimpleJWT does (the EM's auth): HS256,
 * claims token_type, user_id, jti, iat and exp; lifetimes on the simulated clock.
 */
export class TokenService {
  private readonly verified = new Map<string, CachedToken>();

  constructor(
    private readonly settings: TokenSettings,
    private readonly clock: Clock,
  ) {}

  checkPassword(username: string, password: string): boolean {
    const user = this.settings.users.find((u) => u.username === username);
    if (!user) return false;
    const a = Buffer.from(user.password);
    const b = Buffer.from(password);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  hasUser(username: string): boolean {
    return this.settings.users.some((u) => u.username === username);
  }

  async issuePair(username: string): Promise<{ refresh: string; access: string }> {
    const refresh = await this.sign(username, 'refresh', this.settings.refreshLifetimeSeconds);
    const access = await this.sign(username, 'access', this.settings.accessLifetimeSeconds);
    return { refresh, access };
  }

  async issueAccess(username: string): Promise<string> {
    return this.sign(username, 'access', this.settings.accessLifetimeSeconds);
  }

  /**
   * The username of a token verified before and not expired since, without a promise (a status
   * poll's path); undefined when it must go through verify().
   */
  verifiedBefore(token: string, type: TokenType): string | undefined {
    const cached = this.verified.get(`${type}:${token}`);
    return cached && cached.exp > Math.floor(this.clock.now() / 1000) ? cached.username : undefined;
  }

  /** Returns the username a valid token of the given type belongs to, or throws TokenRejected. */
  async verify(token: string, type: TokenType): Promise<string> {
    const nowSeconds = Math.floor(this.clock.now() / 1000);
    const cacheKey = `${type}:${token}`;
    const cached = this.verified.get(cacheKey);
    if (cached) {
      if (cached.exp > nowSeconds) return cached.username;
      this.verified.delete(cacheKey);
      throw new TokenRejected('Token is invalid or expired');
    }

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.settings.secret, {
        algorithms: ['HS256'],
        currentDate: new Date(this.clock.now()),
      }));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) {
        throw new TokenRejected('Token is invalid or expired');
      }
      throw err;
    }
    if (payload.token_type !== type) throw new TokenRejected('Token has wrong type');
    const username = payload.user_id;
    if (typeof username !== 'string' || !this.hasUser(username) || typeof payload.exp !== 'number') {
      throw new TokenRejected('Token is invalid or expired');
    }
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(cacheKey, { username, exp: payload.exp });
    return username;
  }

  private async sign(username: string, type: TokenType, lifetimeSeconds: number): Promise<string> {
    const now = Math.floor(this.clock.now() / 1000);
    return new SignJWT({ token_type: type, user_id: username, jti: randomUUID().replaceAll('-', '') })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(now)
      .setExpirationTime(now + lifetimeSeconds)
      .sign(this.settings.secret);
  }
}
