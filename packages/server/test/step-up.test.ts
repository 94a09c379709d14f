/** Step-up (RFC 9470) on the server's own sensitive admin actions: a stale auth_time is refused until /api/reauth. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

let now = Date.UTC(2032, 0, 1);
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;
let user: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  server = await startServer({ stepUpMaxAge: '15m', accessTokenTtl: '1h' }, { clock: () => now });
  admin = await signUp(server, 'admin@example.com');
  user = await signUp(server, 'user@example.com');
});
afterAll(async () => {
  await server.close();
});

describe('sensitive admin actions', () => {
  it('pass with a fresh password authentication', async () => {
    const res = await server.request('PUT', `/api/admin/users/${user.userId}/roles`, {
      token: admin.access_token,
      body: { roles: ['editor'] },
    });
    expect(res.status).toBe(200);
  });

  it('are refused with an RFC 9470 challenge once auth_time is older than the limit; reads still work', async () => {
    now += 16 * 60_000;
    for (const [method, path, body] of [
      ['PUT', `/api/admin/users/${user.userId}/roles`, { roles: [] }],
      ['POST', `/api/admin/users/${user.userId}/disable`, undefined],
      ['POST', '/api/admin/keys/rotate', {}],
    ] as const) {
      const res = await server.request(method, path, { token: admin.access_token, body });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({
        code: 'ERR_STEP_UP_REQUIRED',
        error: 'insufficient_user_authentication',
      });
      expect(res.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="jot", error="insufficient_user_authentication", error_description="[^"]+", max_age="900"$/,
      );
    }
    expect((await server.request('GET', '/api/admin/users', { token: admin.access_token })).status).toBe(200);
  });

  it('pass again after POST /api/reauth, which needs the right password', async () => {
    const wrong = await server.request('POST', '/api/reauth', {
      token: admin.access_token,
      body: { password: 'nope nope' },
    });
    expect(wrong.status).toBe(403);
    const reauth = await server.request('POST', '/api/reauth', {
      token: admin.access_token,
      body: { password: 'correct horse battery' },
    });
    expect(reauth.status).toBe(200);
    const res = await server.request('PUT', `/api/admin/users/${user.userId}/roles`, {
      token: reauth.body.access_token,
      body: { roles: ['viewer'] },
    });
    expect(res.status).toBe(200);
  });
});
