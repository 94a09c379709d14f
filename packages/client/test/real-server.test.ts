/**
 * `@jot/client` against the real `@jot/server` over HTTP (not the fake): sign-in, whoami, the refresh-and-retry of
 * a refused token, refresh-token rotation and reuse, step-up (the challenge, then re-authentication), the server's
 * codes passed through, sign-out here and everywhere, and an unreachable server. Bearer mode; the browser modes
 * run against the real server in real-server-browser-modes.test.ts (with a cookie jar) and in Chromium (web UI).
 */
import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import {
  createClient,
  isStepUpRequired,
  JotClientError,
  memoryDeviceTokenStore,
  type FetchLike,
  type JotClient,
} from '../src/index.js';
import { next } from './session-events.js';

let server: TestServer;
let client: JotClient;
const email = 'client@example.com';
const password = 'correct horse battery';
/** How far the server's clock runs ahead of the real one (step-up tests age a sign-in without waiting). */
let skewMs = 0;
const others: JotClient[] = [];

beforeAll(async () => {
  server = await startServer({ stepUpMaxAge: '60s' }, { clock: () => Date.now() + skewMs });
  await signUp(server, email, password);
  client = createClient({ baseUrl: server.url, mode: 'bearer', locks: null, broadcast: false });
});
afterAll(async () => {
  client.close();
  for (const other of others) other.close();
  await server.close();
});

/** A bearer client of the real server; its requests are recorded as "METHOD /path status", its refresh tokens kept. */
function recordedClient(): { client: JotClient; calls: string[]; refreshTokens: string[] } {
  const calls: string[] = [];
  const refreshTokens: string[] = [];
  const recording: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    calls.push(`${req.method} ${new URL(req.url).pathname} ${res.status}`);
    if (res.ok && res.headers.get('content-type')?.includes('json')) {
      const body = (await res.clone().json()) as { refresh_token?: unknown };
      if (typeof body.refresh_token === 'string') refreshTokens.push(body.refresh_token);
    }
    return res;
  };
  const c = createClient({
    baseUrl: server.url,
    mode: 'bearer',
    locks: null,
    broadcast: false,
    fetch: recording,
  });
  others.push(c);
  return { client: c, calls, refreshTokens };
}

async function failure(promise: Promise<unknown>): Promise<JotClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JotClientError);
  return err as JotClientError;
}

describe('@jot/client against the real server', () => {
  it("passes the server's code through for wrong credentials", async () => {
    const err = await failure(client.login(email, 'not the password'));
    expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 401, error: 'invalid_grant' });
  });

  it('signs in and reads whoami', async () => {
    await client.login(email, password);
    const me = await client.whoami();
    expect(me.user.email).toBe(email);
    expect(me.claims.sub).toBe(me.user.id);
  });

  it('refreshes and retries once when the server refuses the access token', async () => {
    const before = await client.whoami();
    const { jti, exp } = before.claims as { jti: string; exp: number };
    await server.app.jot.revocations.revokeToken(jti, exp);
    const res = await client.fetch('/api/whoami');
    expect(res.status).toBe(200);
    const after = (await res.json()) as { claims: { jti: string; sid: string } };
    expect(after.claims.jti).not.toBe(jti);
    expect(after.claims.sid).toBe(before.claims.sid);
  });

  it('re-authenticates (step-up) and reports a wrong password with the server code', async () => {
    const err = await failure(client.reauthenticate('not the password'));
    expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 403 });
    const before = (await client.whoami()).claims.auth_time as number;
    await client.reauthenticate(password);
    expect((await client.whoami()).claims.auth_time).toBeGreaterThanOrEqual(before);
  });

  it('signs out: the server ends the session and the client sends no token any more', async () => {
    const sid = (await client.whoami()).claims.sid as string;
    await client.logout();
    expect((await server.app.jot.store.getSession(sid))?.revokedAt).not.toBeNull();
    const err = await failure(client.whoami());
    expect(err).toMatchObject({ code: 'ERR_AUTH_REQUIRED', status: 401 });
  });

  it('reports an unreachable server as ERR_CLIENT_NETWORK', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const offline = createClient({ baseUrl: `http://127.0.0.1:${port}`, mode: 'bearer', locks: null });
    try {
      const err = await failure(offline.login(email, password));
      expect(err).toMatchObject({ code: 'ERR_CLIENT_NETWORK', status: 0 });
    } finally {
      offline.close();
    }
  });

  it('rotates the refresh token; replaying the spent one is reuse, which ends the session in the client', async () => {
    await signUp(server, 'rotation@example.com', password);
    const { client: c, calls, refreshTokens } = recordedClient();
    await c.login('rotation@example.com', password);
    const { jti, exp } = (await c.whoami()).claims;
    await server.app.jot.revocations.revokeToken(jti, exp);
    expect((await c.fetch('/api/whoami')).status).toBe(200); // refreshed, then retried
    expect(refreshTokens).toHaveLength(2);
    expect(refreshTokens[1]).not.toBe(refreshTokens[0]);
    // Within the grace window a replay is a racing tab: it gets the same successor, and nothing ends.
    const raced = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: refreshTokens[0] },
    });
    expect(raced).toMatchObject({ status: 200, body: { refresh_token: refreshTokens[1] } });
    // Later, the spent token replayed is reuse (RFC 9700 §4.14.2): the whole session ends.
    skewMs = 30_000; // past the 10 s grace window
    try {
      const replay = await server.request('POST', '/api/token/refresh', {
        body: { refresh_token: refreshTokens[0] },
      });
      expect(replay).toMatchObject({ status: 401, body: { code: 'ERR_REFRESH_TOKEN_REUSED' } });
    } finally {
      skewMs = 0;
    }
    const ended = next(c, 'session:ended');
    expect((await c.fetch('/api/whoami')).status).toBe(401);
    expect(await ended).toEqual({ reason: 'refresh-failed' });
    expect(c.signedIn).toBe(false);
    expect(calls.filter((call) => call.startsWith('POST /api/token/refresh'))).toEqual([
      'POST /api/token/refresh 200',
      'POST /api/token/refresh 401',
    ]);
  });

  it('signs out everywhere: another signed-in client of the user is signed out at its next request', async () => {
    await signUp(server, 'everywhere@example.com', password);
    const laptop = recordedClient().client;
    const phone = recordedClient();
    await laptop.login('everywhere@example.com', password);
    await phone.client.login('everywhere@example.com', password);
    expect((await phone.client.fetch('/api/whoami')).status).toBe(200);
    await laptop.logoutEverywhere();
    expect(laptop.signedIn).toBe(false);
    const ended = next(phone.client, 'session:ended');
    expect((await phone.client.fetch('/api/whoami')).status).toBe(401);
    expect(await ended).toEqual({ reason: 'refresh-failed' });
    expect(phone.client.signedIn).toBe(false);
    expect(phone.calls.slice(-2)).toEqual(['GET /api/whoami 401', 'POST /api/token/refresh 401']);
  });

  it('a step-up route answers with the challenge: announced, not refreshed; reauthenticate lets it through', async () => {
    await signUp(server, 'step-up@example.com', password);
    const { client: c, calls } = recordedClient();
    await c.login('step-up@example.com', password);
    skewMs = 120_000; // the sign-in is now two minutes old; the server wants one within 60 s (RFC 9470 §3)
    try {
      const announced = next(c, 'session:step-up-required');
      const res = await c.fetch('/api/account', { method: 'DELETE' });
      expect(res.status).toBe(401);
      expect(await isStepUpRequired(res)).toBe(true);
      expect(await res.json()).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED' });
      expect(await announced).toMatchObject({ maxAge: 60 });
      expect(c.signedIn).toBe(true);
      await c.reauthenticate(password);
      expect((await c.fetch('/api/account', { method: 'DELETE' })).status).toBe(204);
      expect(calls.filter((call) => call.startsWith('POST /api/token/refresh'))).toEqual([]);
    } finally {
      skewMs = 0;
    }
  });

  it('keeps the device credential of its sign-in: the account-wide lock others set does not keep it out', async () => {
    const owner = 'device-owner@example.com';
    await signUp(server, owner, password);
    const kept = memoryDeviceTokenStore();
    const app = createClient({
      baseUrl: server.url,
      mode: 'bearer',
      locks: null,
      broadcast: false,
      deviceTokens: kept,
    });
    const stranger = createClient({ baseUrl: server.url, mode: 'bearer', locks: null, broadcast: false });
    others.push(app, stranger);
    await app.login(owner, password);
    // Someone who knows the address fails until the account's password sign-in is locked.
    for (let i = 0; ; i++) {
      const res = await server.request('POST', '/api/login', {
        body: { email: owner, password: `guess ${i}` },
      });
      if (res.status === 429) break;
      expect(res.status).toBe(401);
    }
    await expect(stranger.login(owner, password)).rejects.toMatchObject({ code: 'ERR_LOGIN_LOCKED' });
    await app.login(owner, password);
    expect(app.signedIn).toBe(true);
    // One entry, kept for the account the server's access token names (so its passkey sign-ins would share it).
    const entries = await kept.load(new URL('/', server.url).href);
    expect(entries).toEqual([
      { account: expect.any(String), user: expect.any(String), token: expect.any(String) },
    ]);
  });
});
