/**
 * Behaviours docs/http-api.md and the README state, each pinned over real HTTP. Each test names the mismatch it
 * guards (issue 10: the docs and the server once disagreed on every one of these).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { SECURITY_EVENT_TYPES } from '../src/index.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
  await signUp(server, 'admin@example.com'); // the first account is the admin
});
afterAll(async () => {
  await server.close();
});

const refresh = (token: string) =>
  server.request('POST', '/api/token/refresh', { body: { refresh_token: token } });

describe('refresh after the session ended', () => {
  it('answers ERR_REFRESH_TOKEN_INVALID after a logout: ending a session deletes its refresh tokens', async () => {
    const tokens = await signUp(server, 'ended@example.com');
    expect((await server.request('POST', '/api/logout', { token: tokens.access_token })).status).toBe(204);
    const res = await refresh(tokens.refresh_token);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ code: 'ERR_REFRESH_TOKEN_INVALID', error: 'invalid_grant' });
  });
});

describe('POST /api/password', () => {
  it("replaces this session's refresh token: the old one stops working, the new one works", async () => {
    const tokens = await signUp(server, 'changer@example.com');
    const changed = await server.request('POST', '/api/password', {
      token: tokens.access_token,
      body: { current_password: 'correct horse battery', new_password: 'a brand new passphrase' },
    });
    expect(changed.status).toBe(200);
    expect(changed.body.refresh_token).not.toBe(tokens.refresh_token);
    expect((await refresh(tokens.refresh_token)).body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
    expect((await refresh(changed.body.refresh_token as string)).status).toBe(200);
  });

  it('refuses a 1,025-character new password as ERR_WEAK_PASSWORD', async () => {
    const tokens = await signUp(server, 'longer@example.com');
    const res = await server.request('POST', '/api/password', {
      token: tokens.access_token,
      body: { current_password: 'correct horse battery', new_password: 'x'.repeat(1025) },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_WEAK_PASSWORD');
  });
});

describe('POST /api/register', () => {
  it('refuses a 1,025-character password as ERR_WEAK_PASSWORD and accepts 1,024', async () => {
    const long = await server.request('POST', '/api/register', {
      body: { email: 'long@example.com', password: 'correct horse battery '.repeat(50).slice(0, 1025) },
    });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('ERR_WEAK_PASSWORD');
    const limit = await server.request('POST', '/api/register', {
      body: { email: 'limit@example.com', password: 'correct horse battery '.repeat(50).slice(0, 1024) },
    });
    expect(limit.status).toBe(201);
  });

  it('refuses "name": 42 with ERR_VALIDATION instead of storing "42"', async () => {
    const res = await server.request('POST', '/api/register', {
      body: { email: 'typed@example.com', password: 'correct horse battery', name: 42 },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_VALIDATION');
    expect(await server.app.jot.store.getUserByEmail('typed@example.com')).toBeUndefined();
  });

  it('still coerces querystrings, which are text on the wire', async () => {
    const admin = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'correct horse battery' },
    });
    const res = await server.request('GET', '/api/admin/users?limit=2', { token: admin.body.access_token });
    expect(res.status).toBe(200);
    expect(res.body.users).toHaveLength(2);
  });
});

describe('POST /api/admin/users', () => {
  it("judges the new account's password by the policy: 1,025 characters is ERR_WEAK_PASSWORD", async () => {
    const admin = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'correct horse battery' },
    });
    const res = await server.request('POST', '/api/admin/users', {
      token: admin.body.access_token,
      body: { email: 'made-long@example.com', password: 'correct horse battery '.repeat(50).slice(0, 1025) },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_WEAK_PASSWORD');
    expect(await server.app.jot.store.getUserByEmail('made-long@example.com')).toBeUndefined();
  });
});

describe('POST /api/login', () => {
  it('refuses a password longer than any account can have with ERR_VALIDATION', async () => {
    const res = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'x'.repeat(1025) },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_VALIDATION');
  });
});

describe('POST /api/reauth', () => {
  it('answers a wrong password with 403 ERR_INVALID_CREDENTIALS (the token itself is fine)', async () => {
    const tokens = await signUp(server, 'reauth@example.com');
    const res = await server.request('POST', '/api/reauth', {
      token: tokens.access_token,
      body: { password: 'not the password' },
    });
    expect(res.status).toBe(403);
    expect(res.body.code).toBe('ERR_INVALID_CREDENTIALS');
  });
});

describe('GET /api/admin/events', () => {
  it('pages with `before` = the id of the last event seen', async () => {
    const admin = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'correct horse battery' },
    });
    const token = admin.body.access_token as string;
    for (let i = 0; i < 3; i++) {
      await server.request('POST', '/api/login', {
        body: { email: 'admin@example.com', password: 'wrong one' },
      });
    }
    const first = await server.request('GET', '/api/admin/events?limit=2', { token });
    expect(first.status).toBe(200);
    const page1 = first.body.events as { id: number; type: string }[];
    expect(page1).toHaveLength(2);
    expect(page1[0]!.id).toBeGreaterThan(page1[1]!.id);
    const next = await server.request('GET', `/api/admin/events?limit=2&before=${page1[1]!.id}`, { token });
    const page2 = next.body.events as { id: number }[];
    expect(page2.length).toBeGreaterThan(0);
    expect(page2.every((e) => e.id < page1[1]!.id)).toBe(true);
  });
});

describe('the documented security-event types', () => {
  it('records login_succeeded and csrf_rejected, and lists only types the docs name', async () => {
    const email = 'events@example.com';
    await signUp(server, email);
    const cookieLogin = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email, password: 'correct horse battery', delivery: 'cookie' }),
    });
    const cookies = cookieLogin.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ');
    const forged = await server.request('POST', '/api/logout', { headers: { cookie: cookies } });
    expect(forged.body.code).toBe('ERR_CSRF');
    const user = await server.app.jot.store.getUserByEmail(email);
    const types = async (): Promise<string[]> =>
      (await server.app.jot.store.listSecurityEvents({ limit: 50, userId: user!.id })).map((e) => e.type);
    await expect.poll(types).toContain('csrf_rejected');
    expect(await types()).toContain('login_succeeded');
  });

  it('documents exactly the event types the server declares', () => {
    const declared: string[] = [...SECURITY_EVENT_TYPES];
    const doc = readFileSync(new URL('../../../docs/http-api.md', import.meta.url), 'utf8');
    const paragraph =
      /The types:\n([^]*?)\.\n/.exec(doc.slice(doc.indexOf('Security events are')))?.[1] ?? '';
    const documented = [...paragraph.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]);
    expect(declared.length).toBeGreaterThan(10);
    expect([...documented].sort()).toEqual([...declared].sort());
  });
});

describe('limits and credentials', () => {
  it('answers the attempt over JOT_RATE_LIMIT_AUTH with 429 ERR_RATE_LIMITED and Retry-After', async () => {
    const limited = await startServer({ rateLimitAuth: '2/min' });
    try {
      const attempt = () =>
        limited.request('POST', '/api/login', { body: { email: 'x@example.com', password: 'whatever1' } });
      expect((await attempt()).status).toBe(401);
      expect((await attempt()).status).toBe(401);
      const third = await attempt();
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ code: 'ERR_RATE_LIMITED', error: 'rate_limited' });
      expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    } finally {
      await limited.close();
    }
  });

  it('refuses the revocation feed without, or with a wrong, credential: 401 ERR_FEED_AUTH', async () => {
    const none = await server.request('GET', '/api/revocations');
    expect(none.status).toBe(401);
    expect(none.body.code).toBe('ERR_FEED_AUTH');
    expect(none.headers.get('www-authenticate')).toBe('Bearer realm="jot"');
    const user = await signUp(server, 'not-admin@example.com');
    const wrong = await server.request('GET', '/api/revocations', { token: user.access_token });
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('ERR_FEED_AUTH');
  });
});

describe('README "Try it"', () => {
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const block = /Try it:\n\n```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

  it('sets every variable it uses', () => {
    expect(block).not.toBe('');
    const used = new Set([...block.matchAll(/\$([A-Z_]+)/g)].map((m) => m[1]));
    const set = new Set([...block.matchAll(/^([A-Z_]+)=/gm)].map((m) => m[1]));
    expect([...used].filter((name) => !set.has(name))).toEqual([]);
  });

  it('works as written against a running server', async () => {
    const fresh = await startServer();
    const dir = mkdtempSync(join(tmpdir(), 'jot-readme-'));
    try {
      const script = `set -e\n${block.replaceAll('localhost:3000', fresh.url)}`;
      // Asynchronously: the server answering the script runs in this process.
      const { stdout: out } = await promisify(execFile)('sh', ['-c', script], { cwd: dir, timeout: 30_000 });
      expect(out).toContain('"email":"ada@example.com"');
      expect(out).toContain('"claims"'); // whoami answered for the token the block extracted
      expect(out).toContain('"keys"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await fresh.close();
    }
  });
});
