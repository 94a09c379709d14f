/**
 * The Jot server and every `@jot/verify` adapter answer the same request the same way. One real server issues the
 * tokens and runs the adapters' app behind its own auth pre-handlers (support/jot-server-routes.ts); each adapter
 * verifies the same tokens from its JWKS and replicated revocation feed. Every request below goes to both, and the
 * status, body, `WWW-Authenticate` challenge, `DPoP-Nonce` and `Cache-Control` must be identical — byte for byte,
 * since both run `createRequestAuth`.
 */
import { createSigner, decodeUnverified, type JWTPayload } from '@jot/jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createVerifier, type Verifier } from '../src/index.js';
import { ADAPTERS, type Mounted } from './support/adapters.js';
import { jotServerRoutes } from './support/jot-server-routes.js';
import { realFeed } from './support/real-feed.js';
import { recordingLogger, waitFor } from './support/wait.js';

const SECRET = 'parity-revocation-secret-0123456789abcdef';
const ISSUER = 'http://jot.test'; // TEST_SETTINGS' issuer
const PASSWORD = 'correct horse battery';

let server: TestServer;
let verifier: Verifier;
/** A plain user's bearer token, an admin's, and a cookie session (its access cookie and CSRF token). */
let user: string;
let admin: string;
let cookie: { jar: string; csrf: string };

/** The answer as compared: everything request authentication decides. */
interface Answer {
  status: number;
  body: unknown;
  challenge: string | null;
  nonce: string | null;
  cacheControl: string | null;
}

async function answer(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, init);
  const text = await res.text();
  return {
    status: res.status,
    body: text === '' ? undefined : (JSON.parse(text) as unknown),
    challenge: res.headers.get('www-authenticate'),
    nonce: res.headers.get('dpop-nonce'),
    cacheControl: res.status === 200 ? null : res.headers.get('cache-control'),
  };
}

/** A token signed with the server's own active key: `claims` override those of `base`; `typ` the header's. */
function forged(base: string, claims: Partial<JWTPayload>, typ = 'at+jwt'): string {
  const payload: JWTPayload = { ...decodeUnverified(base).payload, ...claims };
  return createSigner(server.app.jot.keys.activeKey(), { typ, issuedAt: false })(payload);
}

async function login(email: string, delivery: 'bearer' | 'cookie'): Promise<Response> {
  return fetch(`${server.url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: PASSWORD, delivery }),
  });
}

beforeAll(async () => {
  server = await startServer(
    { revocationSecret: SECRET, stepUpMaxAge: '60s' },
    { routes: (app) => jotServerRoutes(app) },
  );
  admin = (await signUp(server, 'admin@example.com')).access_token; // the first account is the admin
  user = (await signUp(server, 'user@example.com')).access_token;
  const res = await login('user@example.com', 'cookie');
  const jar = res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0]!)
    .filter((pair) => pair.startsWith('jot_at='))
    .join('; ');
  cookie = { jar, csrf: ((await res.json()) as { csrf_token: string }).csrf_token };
  verifier = createVerifier({
    issuer: ISSUER,
    audience: ISSUER,
    ...realFeed(server.url, SECRET, { maxStaleness: '10s' }),
    cookies: ['__Host-jot_at', 'jot_at'],
    // The server's proof algorithms (its default list), so both offer and demand the same ones.
    dpop: { algorithms: server.config.dpopAlgorithms },
    logger: recordingLogger(),
  });
  await verifier.ready();
  await waitFor(() => verifier.stats().revocation.connected === true, 5000, 'stream connected');
});

afterAll(async () => {
  await verifier?.close();
  await server?.close();
});

describe.each(ADAPTERS)('the Jot server and the %s adapter', (_name, mount) => {
  let app: Mounted;

  beforeAll(async () => {
    app = await mount(verifier);
  });

  afterAll(async () => {
    await app?.close();
  });

  /** Sends the request to the server and to the adapter; both answers must be equal. Returns the server's. */
  async function same(path: string, init: RequestInit = {}): Promise<Answer> {
    const fromServer = await answer(server.url + path, init);
    const fromAdapter = await answer(app.url + path, init);
    expect(fromAdapter, `${init.method ?? 'GET'} ${path}`).toEqual(fromServer);
    return fromServer;
  }
  const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

  it('accepts a valid bearer token', async () => {
    const res = await same('/me', bearer(user));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ via: 'bearer', path: '/me' });
  });

  /** RFC 6750 §3.1: no error without credentials; RFC 9449 §7.1: the DPoP scheme offered beside Bearer. */
  const BARE = 'Bearer realm="jot", DPoP algs="ES256 ES384 ES512 EdDSA PS256 RS256"';

  it('no token: 401 ERR_AUTH_REQUIRED with a challenge naming no error', async () => {
    const res = await same('/me');
    expect(res).toMatchObject({ status: 401, challenge: BARE });
    expect(res.body).toMatchObject({ code: 'ERR_AUTH_REQUIRED', error: 'invalid_request' });
  });

  it('another scheme is no credentials, never replaced by the cookie', async () => {
    const res = await same('/me', {
      headers: { authorization: 'Basic dXNlcjpwYXNz', cookie: cookie.jar },
    });
    expect(res).toMatchObject({ status: 401, challenge: BARE });
    expect(res.body).toMatchObject({ code: 'ERR_AUTH_REQUIRED' });
  });

  it.each(['Bearer', 'Bearer abc def', 'Bearer %%%.%%%.%%%', 'bearer abc"def'])(
    'a malformed header (%s): 400 ERR_AUTH_MALFORMED',
    async (authorization) => {
      const res = await same('/me', { headers: { authorization, cookie: cookie.jar } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ code: 'ERR_AUTH_MALFORMED', error: 'invalid_request' });
      expect(res.challenge).toMatch(/^Bearer realm="jot", error="invalid_request", error_description="/);
    },
  );

  it('a bad signature, an expired token and a wrong typ: 401 invalid_token with the JOSE code', async () => {
    const [head, payload, signature] = user.split('.');
    const flipped = signature!.slice(0, 10) + (signature![10] === 'A' ? 'B' : 'A') + signature!.slice(11);
    const badSignature = await same('/me', bearer(`${head}.${payload}.${flipped}`));
    expect(badSignature.status).toBe(401);
    expect(badSignature.body).toMatchObject({ code: 'ERR_JWS_SIGNATURE_INVALID', error: 'invalid_token' });

    const now = Math.floor(Date.now() / 1000);
    const expired = await same('/me', bearer(forged(user, { iat: now - 3600, exp: now - 1800 })));
    expect(expired.body).toMatchObject({ code: 'ERR_JWT_EXPIRED', error: 'invalid_token' });
    expect(expired.challenge).toMatch(
      /^Bearer realm="jot", error="invalid_token", error_description="[^"]+"$/,
    );

    const wrongTyp = await same('/me', bearer(forged(user, {}, 'JWT')));
    expect(wrongTyp.body).toMatchObject({ code: 'ERR_JWT_CLAIM_INVALID' });
  });

  it('CSRF: a cookie on an unsafe method needs the session header', async () => {
    expect((await same('/me', { headers: { cookie: cookie.jar } })).status).toBe(200);
    const missing = await same('/orders', { method: 'POST', headers: { cookie: cookie.jar } });
    expect(missing.status).toBe(403);
    expect(missing.body).toMatchObject({ code: 'ERR_CSRF', error: 'invalid_request' });
    const wrong = await same('/orders', {
      method: 'POST',
      headers: { cookie: cookie.jar, 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrong.body).toMatchObject({ code: 'ERR_CSRF' });
    const right = await same('/orders', {
      method: 'POST',
      headers: { cookie: cookie.jar, 'x-csrf-token': cookie.csrf },
    });
    expect(right).toMatchObject({ status: 200, body: { via: 'cookie', path: '/orders' } });
  });

  it('a missing role: 403 ERR_FORBIDDEN insufficient_scope', async () => {
    const res = await same('/admin', bearer(user));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'ERR_FORBIDDEN', error: 'insufficient_scope' });
    expect(res.challenge).toBe(
      'Bearer realm="jot", error="insufficient_scope", error_description="this request needs the role admin"',
    );
    expect((await same('/admin', bearer(admin))).status).toBe(200);
  });

  it('step-up: the same RFC 9470 challenge, byte for byte', async () => {
    const old = forged(user, { auth_time: Math.floor(Date.now() / 1000) - 3600 });
    const res = await same('/sensitive', bearer(old));
    expect(res.status).toBe(401);
    expect(res.challenge).toBe(
      'Bearer realm="jot", error="insufficient_user_authentication", error_description="this request needs an authentication within the last 60 seconds", max_age="60"',
    );
    expect(res.body).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'this request needs an authentication within the last 60 seconds',
      code: 'ERR_STEP_UP_REQUIRED',
    });
    expect((await same('/sensitive', bearer(user))).status).toBe(200);
  });

  it('a DPoP-bound token sent as Bearer: 401 ERR_DPOP_REQUIRED with the DPoP challenge', async () => {
    const bound = forged(user, { cnf: { jkt: 'A'.repeat(43) } });
    const res = await same('/me', bearer(bound));
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_DPOP_REQUIRED', error: 'invalid_token' });
    expect(res.challenge).toMatch(/^DPoP error="invalid_token", error_description="[^"]+", algs="[^"]+"$/);
  });

  it('revoked by a logout: 401 ERR_TOKEN_REVOKED with the same description', async () => {
    const token = (await (await login('user@example.com', 'bearer')).json()) as { access_token: string };
    expect((await same('/me', bearer(token.access_token))).status).toBe(200);
    const before = verifier.stats().revocation.events ?? 0;
    const out = await fetch(`${server.url}/api/logout`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token.access_token}` },
    });
    expect(out.status).toBe(204);
    // The logout publishes the session and the token's jti: wait until the adapter's copy has both.
    await waitFor(() => (verifier.stats().revocation.events ?? 0) >= before + 2, 5000, 'logout replicated');
    const res = await same('/me', bearer(token.access_token));
    expect(res.status).toBe(401);
    expect(res.body).toEqual({
      error: 'invalid_token',
      error_description: 'this access token has been revoked',
      code: 'ERR_TOKEN_REVOKED',
    });
  });
});
