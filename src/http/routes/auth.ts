import { z } from 'zod';
import { TokenRejected, type TokenService } from '../../domain/auth/tokens.ts';
import { readParams } from '../params.ts';
import type { RouteTable } from '../route-table.ts';

const REQUIRED = ['This field is required.'];

// Documented only: the handlers read their parameters themselves, to answer as SimpleJWT does.
const loginParams = z.object({
  username: z.string().describe('a user of sim-config.yaml'),
  password: z.string().describe('that user\'s password'),
});
const refreshParams = z.object({ refresh: z.string().describe('the refresh token POST /auth/ gave') });

const ACCESS = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwidXNlcl9pZCI6ImNsaWVudDEifQ.…';
const REFRESH = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ0b2tlbl90eXBlIjoicmVmcmVzaCIsInVzZXJfaWQiOiJjbGllbnQxIn0.…';

/** POST /auth/ and /auth/refresh, answering as SimpleJWT's token views do. */
export function registerAuthRoutes(routes: RouteTable, tokens: TokenService): void {
  routes.add(
    {
      methods: ['POST'],
      path: '/auth/',
      tag: 'auth',
      auth: false,
      summary: 'Log in: a refresh token and an access token (SimpleJWT)',
      description:
        'Send the access token as `Authorization: Bearer ACCESS`. Its lifetime is auth.access_token_lifetime ' +
        '(300 s by default, on the simulated clock); renew it with /auth/refresh. Never locked by busy windows.',
      params: loginParams,
      handlerReadsParams: true,
      success: { description: 'The token pair', example: { refresh: REFRESH, access: ACCESS } },
      errors: [],
      otherResponses: [
        { status: 400, description: 'A field is missing (SimpleJWT\'s body: each missing field with its complaint)', example: { username: REQUIRED } },
        { status: 401, description: 'Unknown user or wrong password', example: { detail: 'No active account found with the given credentials' } },
      ],
    },
    async (c) => {
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
    },
  );

  routes.add(
    {
      methods: ['POST'],
      path: '/auth/refresh',
      tag: 'auth',
      auth: false,
      summary: 'A new access token for a refresh token (SimpleJWT)',
      description: 'The refresh token lives auth.refresh_token_lifetime (a day by default) and is not rotated.',
      params: refreshParams,
      handlerReadsParams: true,
      success: { description: 'A new access token', example: { access: ACCESS } },
      errors: [],
      otherResponses: [
        { status: 400, description: '`refresh` is missing', example: { refresh: REQUIRED } },
        {
          status: 401,
          description: 'The refresh token is invalid, expired, or an access token',
          example: { detail: 'Token is invalid or expired', code: 'token_not_valid' },
        },
      ],
    },
    async (c) => {
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
    },
  );
}
