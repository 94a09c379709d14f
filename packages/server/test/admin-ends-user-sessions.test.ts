/**
 * An admin ends every session of another user over HTTP (`DELETE /api/admin/users/:id/sessions`), as the user's own
 * "sign out everywhere" and `jot sessions revoke --user` do: the user's refresh tokens are refused, their access
 * tokens are refused by the server and — through the revocation feed — by a `@jot/verify` verifier; nobody else's
 * sessions end. Admins only, with the step-up the other admin user actions need; recorded with the admin's id.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createVerifier, isVerifyError, type Verifier } from '@jot/verify';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

const FEED_SECRET = 'admin-ends-sessions-'.padEnd(40, 'x');
const PASSWORD = 'correct horse battery';
/** Moved forward by the step-up test, for the server and the verifier alike. */
let offset = 0;
const clock = (): number => Date.now() + offset;

let server: TestServer;
let verifier: Verifier;
let admin: Awaited<ReturnType<typeof signUp>>;

const whoami = (token: string) => server.request('GET', '/api/whoami', { token });
const refresh = (refresh_token: string) =>
  server.request('POST', '/api/token/refresh', { body: { refresh_token } });
const endSessions = (userId: string, token: string) =>
  server.request('DELETE', `/api/admin/users/${userId}/sessions`, { token });
const login = async (email: string) => {
  const res = await server.request('POST', '/api/login', { body: { email, password: PASSWORD } });
  expect(res.status, res.text).toBe(200);
  return res.body as { access_token: string; refresh_token: string };
};

/** `'accepted'`, or the code the verifier refused the token with. */
async function verdict(token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
}

beforeAll(async () => {
  server = await startServer(
    { revocationSecret: FEED_SECRET, stepUpMaxAge: '15m', accessTokenTtl: '1h' },
    { clock },
  );
  admin = await signUp(server, 'admin@example.com');
  verifier = createVerifier({
    issuer: server.config.issuer,
    audience: server.config.issuer,
    jwksUri: `${server.url}/.well-known/jwks.json`,
    revocation: {
      strategy: 'replicated',
      secret: FEED_SECRET,
      feedUrl: `${server.url}/api/revocations`,
      streamUrl: `${server.url}/api/revocations/stream`,
    },
    clock,
  });
  await verifier.ready();
});
afterAll(async () => {
  await verifier?.close();
  await server?.close();
});

describe('an admin ends all of a user’s sessions', () => {
  it('refuses the user’s refresh and access tokens everywhere, and leaves other users signed in', async () => {
    const user = await signUp(server, 'ended@example.com');
    const second = await login('ended@example.com');
    const other = await signUp(server, 'bystander@example.com');
    await expect.poll(() => verifier.stats().revocation.connected).toBe(true);
    for (const token of [user.access_token, second.access_token, other.access_token])
      expect(await verdict(token)).toBe('accepted');
    const seen = verifier.stats().revocation.events ?? 0;

    const res = await endSessions(user.userId, admin.access_token);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ revoked: 2 });

    for (const token of [user.access_token, second.access_token]) {
      const refused = await whoami(token);
      expect(refused.status).toBe(401);
      expect(refused.body.code).toBe('ERR_TOKEN_REVOKED');
    }
    for (const token of [user.refresh_token, second.refresh_token])
      expect((await refresh(token)).status).toBe(401);
    expect(await server.app.jot.store.listSessionsForUser(user.userId)).toEqual([]);
    // The feed carried it to the resource server.
    await expect.poll(() => verifier.stats().revocation.events ?? 0).toBeGreaterThan(seen);
    await expect.poll(() => verdict(user.access_token)).toBe('ERR_TOKEN_REVOKED');
    expect(await verdict(second.access_token)).toBe('ERR_TOKEN_REVOKED');

    // Nobody else was signed out, the admin included.
    expect((await whoami(other.access_token)).status).toBe(200);
    expect(await verdict(other.access_token)).toBe('accepted');
    expect((await refresh(other.refresh_token)).status).toBe(200);
    expect((await whoami(admin.access_token)).status).toBe(200);
    // The user signs in again as usual.
    expect((await whoami((await login('ended@example.com')).access_token)).status).toBe(200);
  });

  it('records logout_all for the user, by the admin, from the admin’s address', async () => {
    const user = await signUp(server, 'recorded@example.com');
    expect((await endSessions(user.userId, admin.access_token)).body).toEqual({ revoked: 1 });
    const events = await server.app.jot.store.listSecurityEvents({ limit: 10, userId: user.userId });
    const recorded = events.find((e) => e.type === 'logout_all');
    expect(recorded).toMatchObject({ userId: user.userId, ip: '127.0.0.1' });
    expect(recorded?.detail).toEqual({ by: admin.userId, revoked: 1 });
  });

  it('answers { revoked: 0 } for a user with no session left', async () => {
    const user = await signUp(server, 'twice@example.com');
    expect((await endSessions(user.userId, admin.access_token)).body).toEqual({ revoked: 1 });
    const again = await endSessions(user.userId, admin.access_token);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({ revoked: 0 });
  });

  it('is refused to a non-admin (403), whose own target stays signed in', async () => {
    const plain = await signUp(server, 'plain@example.com');
    const target = await signUp(server, 'target@example.com');
    const res = await endSessions(target.userId, plain.access_token);
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ERR_FORBIDDEN');
    expect((await whoami(target.access_token)).status).toBe(200);
    expect((await server.request('DELETE', `/api/admin/users/${target.userId}/sessions`)).status).toBe(401);
  });

  it('answers 404 ERR_NOT_FOUND for an unknown user id', async () => {
    const res = await endSessions(randomUUID(), admin.access_token);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND', error_description: 'no such user' });
  });

  it('is in the OpenAPI document as an admin route', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body;
    const route = doc.paths['/api/admin/users/{id}/sessions']?.delete;
    expect(route).toMatchObject({ tags: ['admin'] });
    expect(Object.keys(route.responses as object)).toEqual(
      expect.arrayContaining(['200', '401', '403', '404']),
    );
  });

  it('needs a recent authentication, answered as disabling a user is (RFC 9470 step-up)', async () => {
    const user = await signUp(server, 'stale@example.com');
    offset += 16 * 60_000;
    const refused = await endSessions(user.userId, admin.access_token);
    const sibling = await server.request('POST', `/api/admin/users/${user.userId}/disable`, {
      token: admin.access_token,
    });
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED' });
    expect({ status: refused.status, body: refused.body }).toEqual({
      status: sibling.status,
      body: sibling.body,
    });
    expect(refused.headers.get('www-authenticate')).toBe(sibling.headers.get('www-authenticate'));
    expect((await whoami(user.access_token)).status).toBe(200);

    const reauth = await server.request('POST', '/api/reauth', {
      token: admin.access_token,
      body: { password: PASSWORD },
    });
    expect(reauth.status).toBe(200);
    const passed = await endSessions(user.userId, reauth.body.access_token as string);
    expect(passed.status).toBe(200);
    expect((await whoami(user.access_token)).status).toBe(401);
  });
});
