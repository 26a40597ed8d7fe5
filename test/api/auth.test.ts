import { request } from 'node:http';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, startSim, type TestSim } from '../helpers/sim.ts';

const NOT_PROVIDED = { detail: 'Authentication credentials were not provided.' };
const invalid = (message = 'Token is invalid or expired') => ({
  detail: 'Given token not valid for any token type',
  code: 'token_not_valid',
  messages: [{ token_class: 'AccessToken', token_type: 'access', message }],
});

describe('authentication (SimpleJWT behaviour)', () => {
  let sim: TestSim;
  beforeAll(async () => {
    sim = await startSim({ config: { auth: { access_token_lifetime: 60, refresh_token_lifetime: 600 }, clock: { control: true } } });
  });
  afterAll(() => sim.close());

  const post = (path: string, body: unknown, type: 'json' | 'form' = 'json') =>
    fetch(sim.url + path, {
      method: 'POST',
      ...(type === 'json'
        ? { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }
        : { body: new URLSearchParams(body as Record<string, string>) }),
    });
  /** A GET with the Authorization header's bytes exactly as given (each char one ISO-8859-1 byte). */
  const rawGet = (path: string, authorization: string) =>
    new Promise<{ status: number; body: unknown }>((resolve, reject) => {
      const req = request(sim.url + path, { headers: { Authorization: Buffer.from(authorization, 'latin1').toString('latin1') } }, (res) => {
        let data = '';
        res.on('data', (chunk: Buffer) => (data += chunk.toString('utf8')));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(data) }));
      });
      req.on('error', reject);
      req.end();
    });
  const list = (authorization?: string) =>
    fetch(`${sim.url}/em/files/list`, { headers: authorization === undefined ? {} : { Authorization: authorization } });

  it('issues a refresh and an access token for good credentials, from JSON and from a form', async () => {
    for (const type of ['json', 'form'] as const) {
      const res = await post('/auth/', { username: 'client1', password: PASSWORD }, type);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, string>;
      expect(Object.keys(body).sort()).toEqual(['access', 'refresh']);
      expect((await list(`Bearer ${body.access}`)).status).toBe(200);
    }
  });

  it('refuses bad credentials with SimpleJWT body', async () => {
    const res = await post('/auth/', { username: 'client1', password: 'wrong' });
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({ detail: 'No active account found with the given credentials' });
    const unknown = await post('/auth/', { username: 'nobody', password: PASSWORD });
    expect(unknown.status).toBe(401);
  });

  it('names missing fields with 400', async () => {
    const res = await post('/auth/', {});
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ username: ['This field is required.'], password: ['This field is required.'] });
  });

  it('refreshes an access token, and refuses an access token as refresh', async () => {
    const pair = (await (await post('/auth/', { username: 'client1', password: PASSWORD })).json()) as Record<string, string>;
    const res = await post('/auth/refresh', { refresh: pair.refresh });
    expect(res.status).toBe(200);
    const { access } = (await res.json()) as { access: string };
    expect((await list(`Bearer ${access}`)).status).toBe(200);

    const wrong = await post('/auth/refresh', { refresh: pair.access });
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ detail: 'Token has wrong type', code: 'token_not_valid' });
    const missing = await post('/auth/refresh', {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ refresh: ['This field is required.'] });
  });

  it('answers 401 for a missing header, or one that is not Bearer', async () => {
    for (const header of [undefined, '', 'Token abc', 'Basic Y2xpZW50MTp4']) {
      const res = await list(header);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
      expect(await res.json()).toEqual(NOT_PROVIDED);
    }
  });

  it('splits the header as SimpleJWT does: on ASCII whitespace only, the type case-sensitive', async () => {
    const token = await sim.token();
    // header.split() on the header's ISO-8859-1 bytes: spaces and tabs separate (HTTP carries no
    // other ASCII whitespace in a header value).
    for (const separator of [' ', '  ', '\t', ' \t ']) {
      const res = await rawGet('/em/files/list', `Bearer${separator}${token}`);
      expect(res.status, JSON.stringify(separator)).toBe(200);
    }
    expect((await rawGet('/em/files/list', `  Bearer ${token}  `)).status).toBe(200);
    // No other space separates: a non-breaking space (0xA0), an em space sent as UTF-8 bytes, or
    // the type in another case make a header without a Bearer type: "not provided".
    for (const header of [`Bearer\u00a0${token}`, `Bearer${Buffer.from('\u2003').toString('latin1')}${token}`, `bearer ${token}`, `BEARER ${token}`, `Bearer\u0085${token}`]) {
      const res = await rawGet('/em/files/list', header);
      expect(res.status, JSON.stringify(header.slice(0, 8))).toBe(401);
      expect(res.body, JSON.stringify(header.slice(0, 8))).toEqual(NOT_PROVIDED);
    }
    // A non-breaking space inside the token's part is part of the token: not valid.
    const tail = await rawGet('/em/files/list', `Bearer ${token}\u00a0`);
    expect(tail).toEqual({ status: 401, body: invalid() });
  });

  it('answers 401 for a header with more than two parts', async () => {
    const res = await list('Bearer a b');
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual({
      detail: 'Authorization header must contain two space-delimited values',
      code: 'bad_authorization_header',
    });
  });

  it('answers 401 token_not_valid for malformed, tampered, wrongly signed, alg:none and refresh tokens', async () => {
    const pair = (await (await post('/auth/', { username: 'client1', password: PASSWORD })).json()) as Record<string, string>;
    const [header, payload, signature] = pair.access!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, user_id: 'someone' })).toString('base64url')}.${signature}`;
    const wrongKey = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('x'.repeat(40)));
    const none = new UnsecuredJWT(claims).encode();
    const cases: [string, string][] = [
      ['not-a-jwt', 'Token is invalid or expired'],
      [tampered, 'Token is invalid or expired'],
      [wrongKey, 'Token is invalid or expired'],
      [none, 'Token is invalid or expired'],
      [pair.refresh!, 'Token has wrong type'],
    ];
    for (const [token, message] of cases) {
      const res = await list(`Bearer ${token}`);
      expect(res.status, token).toBe(401);
      expect(await res.json()).toEqual(invalid(message));
    }
  });

  it('expires access tokens after their lifetime on the simulator clock', async () => {
    const pair = (await (await post('/auth/', { username: 'client1', password: PASSWORD })).json()) as Record<string, string>;
    expect((await list(`Bearer ${pair.access}`)).status).toBe(200);
    sim.running.sim.clock.advance(61_000);
    const res = await list(`Bearer ${pair.access}`);
    expect(res.status).toBe(401);
    expect(await res.json()).toEqual(invalid());
    // The refresh token lives longer and still gives a working access token.
    const refreshed = await post('/auth/refresh', { refresh: pair.refresh });
    expect(refreshed.status).toBe(200);
  });

  it('never locks or authenticates /sim/health', async () => {
    const res = await fetch(`${sim.url}/sim/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });
});

describe('the signing secret', () => {
  it('is generated on first start, kept in the data directory, and tokens survive a restart', async () => {
    const first = await startSim();
    const dataDir = first.dataDir;
    const token = await first.token();
    const { readFileSync, rmSync, statSync } = await import('node:fs');
    const secretFile = `${dataDir}/secret.key`;
    expect(readFileSync(secretFile, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    await first.running.close();

    const second = await startSim({ dataDir });
    try {
      const res = await fetch(`${second.url}/em/files/list`, { headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await second.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('comes from auth.signing_secret when configured, so tokens of another secret are refused', async () => {
    await using a = await startSim({ config: { auth: { signing_secret: 'a'.repeat(40) } } });
    await using b = await startSim({ config: { auth: { signing_secret: 'b'.repeat(40) } } });
    const token = await a.token();
    expect((await fetch(`${a.url}/em/files/list`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(`${b.url}/em/files/list`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(401);
  });
});
