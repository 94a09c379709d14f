/**
 * Every kind of revocation, alone and together: per token, per session, the per-user cut-off, the token version
 * (role changes), the account status — and the feed resource servers replicate them from.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { FEED_RETENTION_SLACK_SECONDS } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

const FEED_SECRET = 'feed-secret-'.padEnd(40, 'x');
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  server = await startServer({ revocationSecret: FEED_SECRET });
  admin = await signUp(server, 'admin@example.com');
});
afterAll(async () => {
  await server.close();
});

const whoami = (token: string) => server.request('GET', '/api/whoami', { token });

describe('logout everywhere', () => {
  it('invalidates every session and token of the user, and a new login works at once', async () => {
    const a = await signUp(server, 'everywhere@example.com');
    const b = await server.request('POST', '/api/login', {
      body: { email: 'everywhere@example.com', password: 'correct horse battery' },
    });
    expect((await server.request('POST', '/api/logout-all', { token: a.access_token })).status).toBe(204);
    for (const token of [a.access_token, b.body.access_token]) {
      const res = await whoami(token);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_TOKEN_REVOKED');
    }
    for (const refresh_token of [a.refresh_token, b.body.refresh_token]) {
      expect((await server.request('POST', '/api/token/refresh', { body: { refresh_token } })).status).toBe(
        401,
      );
    }
    // A login right after (same second) must not be caught by the cut-off.
    const again = await server.request('POST', '/api/login', {
      body: { email: 'everywhere@example.com', password: 'correct horse battery' },
    });
    expect(again.status).toBe(200);
    expect((await whoami(again.body.access_token)).status).toBe(200);
  });
});

describe('role changes and status', () => {
  it('a role change invalidates tokens carrying the old roles; a refresh picks up the new ones', async () => {
    const user = await signUp(server, 'roles@example.com');
    const set = await server.request('PUT', `/api/admin/users/${user.userId}/roles`, {
      token: admin.access_token,
      body: { roles: ['editor'] },
    });
    expect(set.status).toBe(200);
    expect(set.body.roles).toEqual(['editor']);
    const stale = await whoami(user.access_token);
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe('ERR_TOKEN_REVOKED');
    const refreshed = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: user.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect(decodeUnverified(refreshed.body.access_token).payload.roles).toEqual(['editor']);
    expect((await whoami(refreshed.body.access_token)).status).toBe(200);
  });

  it('a disabled user is rejected everywhere: access token, refresh, login; enabling needs a new login', async () => {
    const user = await signUp(server, 'disabled@example.com');
    expect(
      (await server.request('POST', `/api/admin/users/${user.userId}/disable`, { token: admin.access_token }))
        .status,
    ).toBe(200);
    const res = await whoami(user.access_token);
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_TOKEN_REVOKED');
    expect(
      (await server.request('POST', '/api/token/refresh', { body: { refresh_token: user.refresh_token } }))
        .status,
    ).toBe(401);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'disabled@example.com', password: 'correct horse battery' },
    });
    expect(login.status).toBe(403);
    expect(login.body.code).toBe('ERR_USER_DISABLED');
    await server.request('POST', `/api/admin/users/${user.userId}/enable`, { token: admin.access_token });
    expect((await whoami(user.access_token)).status).toBe(401);
    const back = await server.request('POST', '/api/login', {
      body: { email: 'disabled@example.com', password: 'correct horse battery' },
    });
    expect((await whoami(back.body.access_token)).status).toBe(200);
  });

  it('admin routes need the admin role (403 insufficient_scope)', async () => {
    const user = await signUp(server, 'notadmin@example.com');
    const res = await server.request('GET', '/api/admin/users', { token: user.access_token });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: 'insufficient_scope', code: 'ERR_FORBIDDEN' });
  });
});

describe('kinds together', () => {
  it('cut-off, version, session and jti revocations each hold regardless of the others', async () => {
    const user = await signUp(server, 'together@example.com');
    const second = await server.request('POST', '/api/login', {
      body: { email: 'together@example.com', password: 'correct horse battery' },
    });
    // jti: logout of session 2 revokes its access token and session.
    await server.request('POST', '/api/logout', { token: second.body.access_token });
    // version: a role change after that.
    await server.request('PUT', `/api/admin/users/${user.userId}/roles`, {
      token: admin.access_token,
      body: { roles: ['x'] },
    });
    // A refresh of session 1 yields a token with the new version that works.
    const fresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: user.refresh_token },
    });
    expect((await whoami(fresh.body.access_token)).status).toBe(200);
    // The logged-out session stays dead even though its version-check would now... still fail: both checks hold.
    expect((await whoami(second.body.access_token)).status).toBe(401);
    // cut-off: logout-all kills the fresh token although its version is current.
    await server.request('POST', '/api/logout-all', { token: fresh.body.access_token });
    expect((await whoami(fresh.body.access_token)).status).toBe(401);
    // A new login after all of it works: no stale cut-off, version or session blocks it.
    const again = await server.request('POST', '/api/login', {
      body: { email: 'together@example.com', password: 'correct horse battery' },
    });
    expect((await whoami(again.body.access_token)).status).toBe(200);
    // And enabling after a disable does not resurrect tokens from before the disable.
    await server.request('POST', `/api/admin/users/${user.userId}/disable`, { token: admin.access_token });
    await server.request('POST', `/api/admin/users/${user.userId}/enable`, { token: admin.access_token });
    expect((await whoami(again.body.access_token)).status).toBe(401);
  });
});

describe('revocation feed', () => {
  it('requires the resource-server credential', async () => {
    expect((await server.request('GET', '/api/revocations')).status).toBe(401);
    expect((await server.request('GET', '/api/revocations', { token: 'wrong-secret' })).status).toBe(401);
    const user = await signUp(server, 'feed-user@example.com');
    expect((await server.request('GET', '/api/revocations', { token: user.access_token })).status).toBe(401);
    expect((await server.request('GET', '/api/revocations', { token: admin.access_token })).status).toBe(200);
  });

  it('returns a snapshot, then only newer entries after the cursor, each with an expiry', async () => {
    const snapshot = await server.request('GET', '/api/revocations', { token: FEED_SECRET });
    expect(snapshot.status).toBe(200);
    expect(snapshot.body.snapshot).toBe(true);
    const user = await signUp(server, 'feed@example.com');
    await server.request('POST', '/api/logout', { token: user.access_token });
    const next = await server.request('GET', `/api/revocations?since=${snapshot.body.cursor}`, {
      token: FEED_SECRET,
    });
    expect(next.body.snapshot).toBe(false);
    const { sid, jti, exp } = decodeUnverified(user.access_token).payload as {
      sid: string;
      jti: string;
      exp: number;
    };
    expect(next.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ kind: 'sid', subject: sid }),
        expect.objectContaining({ kind: 'jti', subject: jti, expires_at: expect.any(Number) }),
      ]),
    );
    const jtiEntry = next.body.entries.find((e: { kind: string }) => e.kind === 'jti');
    // Kept until exp + the server's tolerance (5 s by default) + the slack a verifier's own tolerance may use.
    expect(jtiEntry.expires_at).toBe(exp + 5 + FEED_RETENTION_SLACK_SECONDS);
  });

  it('streams new entries as Server-Sent Events', async () => {
    const head = await server.request('GET', '/api/revocations', { token: FEED_SECRET });
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/revocations/stream?since=${head.body.cursor}`, {
      headers: { authorization: `Bearer ${FEED_SECRET}` },
      signal: controller.signal,
    });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const user = await signUp(server, 'stream@example.com');
    await server.request('POST', '/api/logout', { token: user.access_token });
    const sid = decodeUnverified(user.access_token).payload.sid as string;
    const reader = res.body!.getReader();
    let text = '';
    const deadline = Date.now() + 5000;
    while (!text.includes(sid) && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('event: revocation');
    expect(text).toContain(`"subject":"${sid}"`);
  });

  it('introspection answers active for a live token and inactive after logout (RFC 7662)', async () => {
    const user = await signUp(server, 'introspect@example.com');
    const live = await server.request('POST', '/api/introspect', {
      token: FEED_SECRET,
      body: { token: user.access_token },
    });
    expect(live.body).toMatchObject({ active: true, sub: user.userId, token_type: 'Bearer' });
    await server.request('POST', '/api/logout', { token: user.access_token });
    const form = await server.request('POST', '/api/introspect', {
      token: FEED_SECRET,
      raw: new URLSearchParams({ token: user.access_token }).toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(form.body).toEqual({ active: false });
  });

  it('introspection refuses a form parameter sent twice (RFC 6749 §3.1) instead of picking one', async () => {
    const user = await signUp(server, 'introspect-twice@example.com');
    const twice = new URLSearchParams({ token: user.access_token });
    twice.append('token', 'something-else');
    const res = await server.request('POST', '/api/introspect', {
      token: FEED_SECRET,
      raw: twice.toString(),
      contentType: 'application/x-www-form-urlencoded',
    });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'ERR_VALIDATION' });
  });
});
