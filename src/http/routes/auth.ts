import { Hono } from 'hono';
import { TokenRejected, type TokenService } from '../../domain/tokens.ts';
import type { AppEnv } from '../env.ts';
import { readParams } from '../params.ts';

const REQUIRED = ['This field is required.'];

/** POST /auth/ and /auth/refresh, answering as SimpleJWT's token views do. */
export function authRoutes(tokens: TokenService): Hono<AppEnv> {
  const router = new Hono<AppEnv>();

  router.post('/auth/', async (c) => {
    const params = await readParams(c);
    const username = typeof params.username === 'string' ? params.username : undefined;
    const password = typeof params.password === 'string' ? params.password : undefined;
    if (!username || !password) {
      const missing: Record<string, string[]> = {};
      if (!username) missing.username = REQUIRED;
      if (!password) missing.password = REQUIRED;
      return c.json(missing, 400);
    }
    if (!tokens.checkPassword(username, password)) {
      return c.json({ detail: 'No active account found with the given credentials' }, 401);
    }
    return c.json(await tokens.issuePair(username), 200);
  });

  router.post('/auth/refresh', async (c) => {
    const params = await readParams(c);
    const refresh = typeof params.refresh === 'string' ? params.refresh : undefined;
    if (!refresh) return c.json({ refresh: REQUIRED }, 400);
    try {
      const username = await tokens.verify(refresh, 'refresh');
      return c.json({ access: await tokens.issueAccess(username) }, 200);
    } catch (err) {
      if (!(err instanceof TokenRejected)) throw err;
      return c.json({ detail: err.message, code: 'token_not_valid' }, 401);
    }
  });

  return router;
}
