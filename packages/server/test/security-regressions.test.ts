/**
 * Regression tests from the security review against shared/SECURITY-NOTES.md: each names the hole it guards.
 */
import { Writable } from 'node:stream';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { ConfigError, createServer, loadConfig } from '../src/index.js';
import { signUp, startServer, TEST_SETTINGS, type TestServer } from './support/jot-server.js';

const FEED = 'f'.repeat(40);
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  server = await startServer({ revocationSecret: FEED, trustProxy: 'true' });
  admin = await signUp(server, 'admin@example.com');
});
afterAll(async () => {
  await server.close();
});

function jarOf(res: { headers: Headers }): string {
  return res.headers
    .getSetCookie()
    .map((line) => line.split(';')[0])
    .join('; ');
}

describe('cookie names', () => {
  it('over https, an unprefixed (plantable) jot_at cookie does not authenticate', async () => {
    const res = await server.request('GET', '/api/whoami', {
      headers: { cookie: `jot_at=${admin.access_token}`, 'x-forwarded-proto': 'https' },
    });
    expect(res.status).toBe(401);
    const prefixed = await server.request('GET', '/api/whoami', {
      headers: { cookie: `__Host-jot_at=${admin.access_token}`, 'x-forwarded-proto': 'https' },
    });
    // A bearer-session token in a cookie still verifies; the point is which name is read.
    expect(prefixed.status).toBe(200);
  });
});

describe('CSRF on every cookie-authenticated mutation', () => {
  it('refuses DELETE /api/sessions/:id, PUT roles, logout-all and password change without X-Csrf-Token', async () => {
    await server.request('POST', '/api/register', {
      body: { email: 'csrf@example.com', password: 'a long password' },
    });
    const login = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'correct horse battery', delivery: 'cookie' },
    });
    const jar = jarOf(login);
    const sid = (await server.request('GET', '/api/whoami', { headers: { cookie: jar } })).body.claims
      .sid as string;
    const attempts = [
      server.request('DELETE', `/api/sessions/${sid}`, { headers: { cookie: jar } }),
      server.request('PUT', `/api/admin/users/${admin.userId}/roles`, {
        headers: { cookie: jar },
        body: { roles: [] },
      }),
      server.request('POST', '/api/logout-all', { headers: { cookie: jar } }),
      server.request('POST', '/api/password', {
        headers: { cookie: jar },
        body: { current_password: 'correct horse battery', new_password: 'another long one' },
      }),
      server.request('POST', '/api/token/refresh', { headers: { cookie: jar }, body: {} }),
    ];
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('ERR_CSRF');
    }
    expect((await server.request('GET', '/api/whoami', { headers: { cookie: jar } })).status).toBe(200);
  });

  it('ignores X-HTTP-Method-Override: a GET does not become a POST', async () => {
    const res = await server.request('GET', '/api/logout', {
      token: admin.access_token,
      headers: { 'x-http-method-override': 'POST' },
    });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
    expect((await server.request('GET', '/api/whoami', { token: admin.access_token })).status).toBe(200);
  });
});

describe('revocation reaches resource servers', () => {
  it('logout-all puts a sid entry for every ended session into the feed', async () => {
    const a = await signUp(server, 'sids@example.com');
    const b = await server.request('POST', '/api/login', {
      body: { email: 'sids@example.com', password: 'correct horse battery' },
    });
    const head = await server.request('GET', '/api/revocations', { token: FEED });
    await server.request('POST', '/api/logout-all', { token: a.access_token });
    const feed = await server.request('GET', `/api/revocations?since=${head.body.cursor}`, { token: FEED });
    const sids = feed.body.entries
      .filter((e: { kind: string }) => e.kind === 'sid')
      .map((e: { subject: string }) => e.subject);
    for (const token of [a.access_token, b.body.access_token]) {
      expect(sids).toContain(decodeUnverified(token).payload.sid);
    }
  });
});

describe('hostile alg values', () => {
  it('answers a non-ASCII or CRLF alg with a 401 in the JSON shape, not a 500', async () => {
    const [, payload, sig] = admin.access_token.split('.');
    for (const alg of ['Ā', 'A\r\nX-Injected: y', 'é'.repeat(50)]) {
      const header = Buffer.from(JSON.stringify({ alg, typ: 'at+jwt' })).toString('base64url');
      const res = await server.request('GET', '/api/whoami', { token: `${header}.${payload}.${sig}` });
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
      expect(res.headers.get('x-injected')).toBeNull();
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="jot", error="invalid_token"/);
    }
  });
});

describe('revocation stream credentials', () => {
  it('a stream opened with an admin token closes when that token is revoked', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'correct horse battery' },
    });
    const controller = new AbortController();
    const res = await fetch(`${server.url}/api/revocations/stream`, {
      headers: { authorization: `Bearer ${login.body.access_token}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    await reader.read();
    await server.request('POST', '/api/logout', { token: login.body.access_token });
    const deadline = Date.now() + 5000;
    let ended = false;
    while (Date.now() < deadline) {
      const { done } = await reader.read();
      if (done) {
        ended = true;
        break;
      }
    }
    controller.abort();
    expect(ended).toBe(true);
  });

  it('refuses non-admin access tokens', async () => {
    const user = await signUp(server, 'stream-user@example.com');
    expect(
      (await server.request('GET', '/api/revocations/stream', { token: user.access_token })).status,
    ).toBe(401);
  });
});

describe('first admin', () => {
  it('makes exactly one admin when the first accounts register at the same time', async () => {
    const fresh = await startServer();
    try {
      const results = await Promise.all(
        Array.from({ length: 6 }, (_, i) =>
          fresh.request('POST', '/api/register', {
            body: { email: `race${i}@example.com`, password: 'a long password' },
          }),
        ),
      );
      expect(results.filter((r) => r.body.roles?.includes('admin'))).toHaveLength(1);
    } finally {
      await fresh.close();
    }
  });
});

describe('secrets stay out of logs and errors', () => {
  it('a trace-level log of login, refresh, cookie and failure flows contains no password, token or CSRF value', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const config = loadConfig({
      env: {},
      file: false,
      overrides: { ...TEST_SETTINGS, logLevel: 'trace', dataDir: server.dataDir + '-logs' },
    });
    const app = await createServer({ config, logger: { level: 'trace', stream: sink } });
    try {
      const password = 'very secret password 42';
      await app.inject({
        method: 'POST',
        url: '/api/register',
        payload: { email: 'log@example.com', password },
      });
      const login = await app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { email: 'log@example.com', password },
      });
      const { access_token, refresh_token } = login.json();
      await app.inject({ method: 'POST', url: '/api/token/refresh', payload: { refresh_token } });
      await app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { email: 'log@example.com', password: password + 'x' },
      });
      await app.inject({
        method: 'GET',
        url: '/api/whoami',
        headers: { authorization: `Bearer ${access_token}` },
      });
      const cookieLogin = await app.inject({
        method: 'POST',
        url: '/api/login',
        payload: { email: 'log@example.com', password, delivery: 'cookie' },
      });
      const csrf = cookieLogin.json().csrf_token as string;
      await app.inject({
        method: 'POST',
        url: '/api/logout',
        headers: { 'x-csrf-token': csrf, cookie: cookieLogin.headers['set-cookie']!.toString() },
      });
      const log = lines.join('');
      expect(log.length).toBeGreaterThan(0);
      for (const secret of [password, access_token, refresh_token, csrf]) expect(log).not.toContain(secret);
    } finally {
      await app.close();
    }
  });

  it('a bad JOT_REDIS_URL is not echoed (it may hold a password)', () => {
    try {
      loadConfig({
        env: { JOT_REDIS_URL: 'reddis://user:hunter2@host' },
        file: false,
        overrides: { dataDir: server.dataDir },
      });
      expect.fail('should refuse');
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as Error).message).toContain('JOT_REDIS_URL');
      expect((err as Error).message).not.toContain('hunter2');
    }
  });
});
