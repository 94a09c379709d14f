/**
 * The token routes' failure budget per address (`JOT_RATE_LIMIT_AUTH`) counts guesses, not stale tokens: only a
 * refresh token the server does not know at all (no such token hash), a failed CSRF check, or (renewal) an access
 * token the server never signed spends it. A token the server issued that is no longer usable — its session logged
 * out, idle past its timeout, its token reused — is answered 401 with its code as before and costs the address
 * nothing: an office behind one NAT on a Monday morning, whose sessions expired over the weekend, is not locked out.
 * - `POST /api/token/refresh` and `POST /oauth/token`'s `refresh_token` grant;
 * - `POST /api/token/renew` (single-token mode): successes cost the address nothing either; forged tokens lock it.
 */
import { randomInt } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const PASSWORD = 'correct horse battery';
const BUDGET = 10;
const WINDOW_S = 60;

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function register(server: TestServer, email: string): Promise<void> {
  const reg = await server.request('POST', '/api/register', {
    body: { email, password: PASSWORD },
    headers: { 'x-forwarded-for': freshAddress() },
  });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
}

/** A signed-in session of `email` (from a fresh address, so set-up spends nobody's budget). */
async function signIn(
  server: TestServer,
  email: string,
): Promise<{ access_token: string; refresh_token?: string }> {
  const login = await server.request('POST', '/api/login', {
    body: { email, password: PASSWORD },
    headers: { 'x-forwarded-for': freshAddress() },
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return login.body;
}

function expect429(res: TestResponse, code: string): void {
  expect(res.status).toBe(429);
  expect(res.body.code).toBe(code);
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

describe('refresh tokens: stale ones cost the address nothing, guesses still lock it', () => {
  let server: TestServer;
  let now = Date.UTC(2026, 0, 5, 6, 0, 0);
  beforeAll(async () => {
    server = await startIssuer(
      {
        rateLimitAuth: `${BUDGET}/${WINDOW_S}s`,
        refreshIdleTimeout: '1h',
        refreshGraceWindow: '10s',
        trustProxy: true,
      },
      { clock: () => now },
    );
    await adminToken(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const refresh = (address: string, token: string): Promise<TestResponse> =>
    server.request('POST', '/api/token/refresh', {
      body: { refresh_token: token },
      headers: { 'x-forwarded-for': address },
    });

  it(`3×${BUDGET} refreshes of logged-out, expired and reused sessions from one address: all 401, then a valid one succeeds`, async () => {
    await register(server, 'monday@example.com');
    // Friday: sessions that go idle over the weekend.
    const expired: string[] = [];
    for (let i = 0; i < 12; i++) expired.push((await signIn(server, 'monday@example.com')).refresh_token!);
    now += 3 * 24 * 3_600_000;
    // Monday: sessions signed out, and rotated tokens presented again past the grace window.
    const loggedOut: string[] = [];
    for (let i = 0; i < 12; i++) {
      const s = await signIn(server, 'monday@example.com');
      const out = await server.request('POST', '/api/logout', {
        token: s.access_token,
        headers: { 'x-forwarded-for': freshAddress() },
      });
      expect(out.status).toBeLessThan(300);
      loggedOut.push(s.refresh_token!);
    }
    const reused: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await signIn(server, 'monday@example.com');
      expect((await refresh(freshAddress(), s.refresh_token!)).status).toBe(200);
      reused.push(s.refresh_token!);
    }
    now += 60_000;
    const good = await signIn(server, 'monday@example.com');

    const office = freshAddress();
    for (const token of expired) {
      const res = await refresh(office, token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_SESSION_ENDED');
    }
    // Ending a session deletes its refresh tokens: answered as a token the store does not hold, as before.
    for (const token of loggedOut) {
      const res = await refresh(office, token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
    }
    for (const token of reused) {
      const res = await refresh(office, token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
    }
    // Reuse still ends the session and is recorded.
    const reuse = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'refresh_token_reuse' });
    expect(reuse.length).toBeGreaterThanOrEqual(reused.length);
    // The office's address is not locked.
    const ok = await refresh(office, good.refresh_token!);
    expect(ok.status).toBe(200);

    // Guesses (tokens the server does not know) from the same address still spend its budget and lock it.
    for (let i = 0; i < BUDGET; i++) {
      const res = await refresh(office, `garbage-${i}-${'x'.repeat(40)}`);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
    }
    expect429(await refresh(office, ok.body.refresh_token), 'ERR_RATE_LIMITED');
  });

  it("/oauth/token: known but unusable refresh tokens cost nothing; unknown ones spend the authenticated client's budget", async () => {
    // Signed in again: the test before moved the clock past the first token's lifetime.
    const signedIn = await signIn(server, 'admin@example.com');
    const { client, client_secret } = await registerClient(server, signedIn.access_token, {
      name: 'relaying gateway',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['refresh_token'],
    });
    await register(server, 'relayed@example.com');
    const address = freshAddress();
    const grant = (token: string) =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: token },
        { authorization: basic(client.client_id, client_secret!), 'x-forwarded-for': address },
      );
    // Tokens the server issued (first-party sessions: another client's; some of them logged out).
    for (let i = 0; i < 2 * BUDGET; i++) {
      const s = await signIn(server, 'relayed@example.com');
      if (i % 2 === 0) {
        await server.request('POST', '/api/logout', {
          token: s.access_token,
          headers: { 'x-forwarded-for': freshAddress() },
        });
      }
      const res = await grant(s.refresh_token!);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    }
    // The budget is whole: BUDGET guesses are answered on their merits, the next is refused. The client proved who it
    // is, so the guesses spend its own budget (gateway-failures-count-per-client.test.ts), not the address's.
    for (let i = 0; i < BUDGET; i++) {
      const res = await grant(`guess-${randomInt(1e9)}-${'y'.repeat(30)}`);
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    }
    expect429(await grant(`guess-${randomInt(1e9)}-${'y'.repeat(30)}`), 'ERR_RATE_LIMITED');
  });
});

describe('POST /api/token/renew: successes and stale tokens cost the address nothing, forged tokens lock it', () => {
  let server: TestServer;
  let now = Date.UTC(2026, 0, 5, 6, 0, 0);
  beforeAll(async () => {
    server = await startServer(
      {
        tokenMode: 'single',
        revocationSecret: 'r'.repeat(40),
        rateLimitAuth: `${BUDGET}/${WINDOW_S}s`,
        trustProxy: true,
      },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await server?.close();
  });

  const renew = (address: string, token: string): Promise<TestResponse> =>
    server.request('POST', '/api/token/renew', { token, headers: { 'x-forwarded-for': address } });

  it(`3×${BUDGET} renewals of different sessions from one address succeed; expired tokens do not lock; forged ones do`, async () => {
    const office = freshAddress();
    // One user each: the per-account budget of renewals that revoke is not what is tested here.
    const tokens: string[] = [];
    for (let i = 0; i < 3 * BUDGET; i++) {
      await register(server, `renewer-${i}@example.com`);
      tokens.push((await signIn(server, `renewer-${i}@example.com`)).access_token);
    }
    for (const token of tokens) {
      const res = await renew(office, token);
      expect(res.status).toBe(200);
      expect(typeof res.body.access_token).toBe('string');
    }
    // Access tokens the server signed, expired: refused on their own, the address stays open.
    const stale = tokens.slice(0, BUDGET + 2);
    now += 24 * 3_600_000;
    for (const token of stale) expect((await renew(office, token)).status).toBe(401);
    await register(server, 'renewer-late@example.com');
    const good = (await signIn(server, 'renewer-late@example.com')).access_token;
    const [header, payload, signature] = good.split('.') as [string, string, string];
    const forged = `${header}.${payload}.${signature.slice(0, -4)}${signature.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    for (let i = 0; i < BUDGET; i++) expect((await renew(office, forged)).status).toBe(401);
    expect429(await renew(office, good), 'ERR_RATE_LIMITED');
    // From another address the good token renews.
    expect((await renew(freshAddress(), good)).status).toBe(200);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'rate_limited' });
    expect(events.some((e) => e.ip === office && e.detail.limit === 'renew-failures')).toBe(true);
  });
});
