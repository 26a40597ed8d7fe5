import type { MiddlewareHandler } from 'hono';
import { TokenRejected, type TokenService } from '../../domain/auth/tokens.ts';
import type { AppEnv } from '../env.ts';

const WWW_AUTHENTICATE = { 'WWW-Authenticate': 'Bearer realm="api"' };

/**
 * What Python's bytes.split() splits on: ASCII whitespace only. SimpleJWT splits the header's
 * ISO-8859-1 bytes (`header.split()` in JWTAuthentication.get_raw_token), so a non-breaking space
 * (0xA0) or any other Unicode space is not a separator; JavaScript's \s would take them for one.
 */
const ASCII_WHITESPACE = /[ \t\n\r\v\f]+/;

/**
 * Authenticates the way SimpleJWT's JWTAuthentication does, down to the 401 bodies: a header
 * that is absent or not a Bearer header (the type is case-sensitive) counts as no credentials
 * at all.
 */
export function bearerAuth(tokens: TokenService): MiddlewareHandler<AppEnv> {
  const verify: MiddlewareHandler<AppEnv> = async (c, next) => {
    const parts = (c.req.header('authorization') ?? '').split(ASCII_WHITESPACE).filter(Boolean);
    if (parts.length === 0 || parts[0] !== 'Bearer') {
      return c.json({ detail: 'Authentication credentials were not provided.' }, 401, WWW_AUTHENTICATE);
    }
    if (parts.length !== 2) {
      return c.json(
        { detail: 'Authorization header must contain two space-delimited values', code: 'bad_authorization_header' },
        401,
        WWW_AUTHENTICATE,
      );
    }
    try {
      c.set('user', await tokens.verify(parts[1]!, 'access'));
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return c.json(
        {
          detail: 'Given token not valid for any token type',
          code: 'token_not_valid',
          messages: [{ token_class: 'AccessToken', token_type: 'access', message: err.message }],
        },
        401,
        WWW_AUTHENTICATE,
      );
    }
    await next();
  };
  return (c, next) => {
    // A token verified before, sent as "Bearer TOKEN" exactly: no splitting and no promise of its own.
    const header = c.req.header('authorization');
    if (header?.startsWith('Bearer ')) {
      const user = tokens.verifiedBefore(header.slice(7), 'access');
      if (user !== undefined) {
        c.set('user', user);
        return next();
      }
    }
    return verify(c, next);
  };
}
