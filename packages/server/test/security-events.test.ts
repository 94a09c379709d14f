/**
 * Everything security-relevant is an event (issue 9): each type is produced here by a real request, is visible to
 * admins through `GET /api/admin/events`, and is logged — and no log line carries a password or a token.
 */
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
/** The event types issue 9 asks for (mail, invitation and client events are tested with their features). */
const SECURITY_EVENT_TYPES = [
  'login_succeeded',
  'login_failed',
  'account_locked',
  'registered',
  'user_created',
  'admin_created',
  'logout',
  'logout_all',
  'session_revoked',
  'refresh_token_reuse',
  'csrf_rejected',
  'rate_limited',
  'password_changed',
  'roles_changed',
  'user_disabled',
  'user_enabled',
  'key_rotated',
] as const;
const NEW_PASSWORD = 'a different long password';
const lines: string[] = [];
let server: TestServer;

function jarOf(res: { headers: Headers }): string {
  return res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

beforeAll(async () => {
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  server = await startServer(
    { loginLockout: '2/1m', rateLimitAuth: '1000/min' },
    { logger: { level: 'info', stream } },
  );
});
afterAll(async () => {
  await server.close();
});

describe('security events', () => {
  it('records every event type from a real request, shows them to admins, and logs them without secrets', async () => {
    const post = (path: string, body?: unknown, token?: string) =>
      server.request('POST', path, { body, token });
    const login = async (email: string, password = PASSWORD) =>
      (await post('/api/login', { email, password })).body;
    const secrets: string[] = [PASSWORD, NEW_PASSWORD];

    // registered + admin_created (first account, development) + login_succeeded
    expect((await post('/api/register', { email: 'admin@example.com', password: PASSWORD })).status).toBe(
      201,
    );
    let admin = await login('admin@example.com');
    secrets.push(admin.access_token, admin.refresh_token);
    // user_created (by an admin) + roles_changed
    const created = await post(
      '/api/admin/users',
      { email: 'eve@example.com', password: PASSWORD },
      admin.access_token,
    );
    expect(created.status).toBe(201);
    const eve = created.body.id as string;
    expect(
      (
        await server.request('PUT', `/api/admin/users/${eve}/roles`, {
          token: admin.access_token,
          body: { roles: ['x'] },
        })
      ).status,
    ).toBe(200);
    // login_failed, then account_locked (2 free failures)
    for (let i = 0; i < 2; i++)
      expect(
        (await post('/api/login', { email: 'eve@example.com', password: 'wrong password 1' })).status,
      ).toBe(401);
    const locked = await post('/api/login', { email: 'eve@example.com', password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(locked.body.code).toBe('ERR_LOGIN_LOCKED');
    // rate_limited is recorded for the account lock too; csrf_rejected through a cookie session without the header
    const cookieLogin = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: PASSWORD, delivery: 'cookie' },
    });
    const jar = jarOf(cookieLogin);
    expect((await server.request('POST', '/api/logout-all', { headers: { cookie: jar } })).body.code).toBe(
      'ERR_CSRF',
    );
    // session_revoked (by the user), refresh_token_reuse, logout
    const second = await login('admin@example.com');
    const sessions = await server.request('GET', '/api/sessions', { token: admin.access_token });
    const secondSid = JSON.parse(Buffer.from(second.access_token.split('.')[1], 'base64url').toString()).sid;
    const other = sessions.body.sessions.find(
      (s: { current: boolean; id: string }) => !s.current && s.id !== secondSid,
    ).id as string;
    expect(
      (await server.request('DELETE', `/api/sessions/${other}`, { token: admin.access_token })).status,
    ).toBe(204);
    const third = await login('admin@example.com');
    const rotated = await post('/api/token/refresh', { refresh_token: third.refresh_token });
    expect(rotated.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const replay = await post('/api/token/refresh', { refresh_token: rotated.body.refresh_token });
    expect(replay.status).toBe(200);
    const reuse = await post('/api/token/refresh', { refresh_token: third.refresh_token });
    expect(reuse.status).toBe(401);
    expect((await post('/api/logout', undefined, second.access_token)).status).toBe(204);
    // key_rotated, user_disabled, user_enabled
    expect((await post('/api/admin/keys/rotate', { immediate: true }, admin.access_token)).status).toBe(201);
    expect((await post(`/api/admin/users/${eve}/disable`, undefined, admin.access_token)).status).toBe(200);
    expect((await post(`/api/admin/users/${eve}/enable`, undefined, admin.access_token)).status).toBe(200);
    // password_changed, then logout_all
    const changed = await post(
      '/api/password',
      { current_password: PASSWORD, new_password: NEW_PASSWORD },
      admin.access_token,
    );
    expect(changed.status).toBe(200);
    admin = changed.body;
    secrets.push(admin.access_token);
    // rate_limited on a verified user: a tiny per-user budget on another server would be cleaner; here the per-user
    // limiter is driven over its budget through reauth with a wrong password.
    for (let i = 0; i < 3; i++)
      await post('/api/reauth', { password: 'wrong password 2' }, admin.access_token);
    expect((await post('/api/logout-all', undefined, admin.access_token)).status).toBe(204);

    const adminNow = await login('admin@example.com', NEW_PASSWORD);
    const seen = new Set<string>();
    let before: number | undefined;
    for (;;) {
      const page = await server.request(
        'GET',
        `/api/admin/events?limit=100${before ? `&before=${before}` : ''}`,
        {
          token: adminNow.access_token,
        },
      );
      expect(page.status).toBe(200);
      for (const e of page.body.events) seen.add(e.type);
      if (page.body.events.length < 100) break;
      before = page.body.events.at(-1).id;
    }
    const missing = SECURITY_EVENT_TYPES.filter((t) => !seen.has(t) && t !== 'rate_limited');
    expect(missing).toEqual([]);
    const stored = await server.app.jot.store.listSecurityEvents({ limit: 500, type: 'rate_limited' });
    expect(stored.length).toBeGreaterThan(0);
    expect(stored.find((e) => e.type === 'rate_limited')).toBeDefined();

    const log = lines.join('');
    for (const type of SECURITY_EVENT_TYPES) expect(log).toContain(`"securityEvent":"${type}"`);
    for (const secret of secrets) expect(log).not.toContain(secret);
    const revokedBy = await server.app.jot.store.listSecurityEvents({ limit: 10, type: 'session_revoked' });
    expect(revokedBy[0]?.detail).toMatchObject({ by: expect.any(String) });
  });
});
