/**
 * Withdrawing a compromised signing key (docs/keys.md, "Emergency rotation"): after an immediate rotation that
 * withdraws the old ring, a token the old key signed is refused at once by the instance that withdrew it and, within
 * a deadline far below the poll interval (so by the LISTEN/NOTIFY push), by another instance on the same
 * PostgreSQL; the kid leaves both JWKS and never comes back; refresh tokens keep working. Also the refusals: the
 * active key alone (409 `ERR_KEY_ACTIVE`), an unknown kid (404), a non-admin (403), a stale authentication (401
 * step-up, as for rotate).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { clusterBackendsAvailable, startCluster, type Cluster } from './support/cluster.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';

const available = await clusterBackendsAvailable('signing-key withdrawal across instances');

/** Pushes must beat this by far: the deadline below is a fraction of it. */
const POLL = '60s';
const PUSH_DEADLINE_MS = 5_000;

const kidOf = (token: string): string => String(decodeUnverified(token).header.kid);

async function jwksKids(server: TestServer): Promise<string[]> {
  const res = await server.request('GET', '/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return (res.body.keys as { kid: string }[]).map((k) => k.kid);
}

const whoami = async (server: TestServer, token: string): Promise<number> =>
  (await server.request('GET', '/api/whoami', { token })).status;

describe.runIf(available)('withdrawing a signing key on two instances (PostgreSQL)', () => {
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let admin: Awaited<ReturnType<typeof signUp>>;
  let user: Awaited<ReturnType<typeof signUp>>;

  beforeAll(async () => {
    cluster = await startCluster({ clusterPollInterval: POLL });
    [a, b] = cluster.instances as [TestServer, TestServer];
    admin = await signUp(a, 'admin@example.com');
    user = await signUp(a, 'user@example.com');
  });
  afterAll(async () => {
    await cluster?.close();
  });

  it('refuses to withdraw the active key alone (409 ERR_KEY_ACTIVE), and an unknown kid (404)', async () => {
    const active = kidOf(admin.access_token);
    const alone = await a.request('POST', `/api/admin/keys/${active}/withdraw`, {
      token: admin.access_token,
    });
    expect(alone.status).toBe(409);
    expect(alone.body).toMatchObject({ code: 'ERR_KEY_ACTIVE' });
    expect(await jwksKids(a)).toContain(active);
    const unknown = await a.request('POST', '/api/admin/keys/no-such-kid/withdraw', {
      token: admin.access_token,
    });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('refuses a non-admin (403)', async () => {
    const res = await a.request('POST', `/api/admin/keys/${kidOf(user.access_token)}/withdraw`, {
      token: user.access_token,
    });
    expect(res.status).toBe(403);
  });

  it('withdraws a retired key at once, everywhere; it never comes back', async () => {
    const retired = kidOf(admin.access_token);
    const rotated = await a.request('POST', '/api/admin/keys/rotate', {
      token: admin.access_token,
      body: { immediate: true },
    });
    expect(rotated.status).toBe(201);
    await vi.waitFor(async () => expect(await jwksKids(b)).toContain(rotated.body.kid), {
      timeout: PUSH_DEADLINE_MS,
    });
    const res = await a.request('POST', `/api/admin/keys/${retired}/withdraw`, { token: admin.access_token });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ kid: retired, alg: 'ES256' });
    expect(await jwksKids(a)).toEqual([rotated.body.kid]);
    expect(await whoami(a, user.access_token)).toBe(401);
    await vi.waitFor(
      async () => {
        expect(await jwksKids(b)).toEqual([rotated.body.kid]);
        expect(await whoami(b, user.access_token)).toBe(401);
      },
      { timeout: PUSH_DEADLINE_MS, interval: 50 },
    );
    await a.app.jot.keys.tick();
    await b.app.jot.keys.tick();
    expect(await jwksKids(a)).toEqual([rotated.body.kid]);
    expect(await jwksKids(b)).toEqual([rotated.body.kid]);
    const again = await a.request('POST', `/api/admin/keys/${retired}/withdraw`, {
      token: (await signIn(a, 'admin@example.com')).access_token,
    });
    expect(again.status).toBe(404);
    const events = await cluster.store.listSecurityEvents({ limit: 5, type: 'key_withdrawn' });
    expect(events[0]).toMatchObject({ userId: admin.userId, detail: { kid: retired } });
  });

  it('rotates immediately and withdraws the compromised ring in one step; refresh tokens still work', async () => {
    const fresh = await signIn(a, 'admin@example.com');
    const session = await signIn(a, 'user@example.com');
    const old = kidOf(session.access_token);
    expect(await whoami(b, session.access_token)).toBe(200);
    const res = await a.request('POST', '/api/admin/keys/rotate', {
      token: fresh.access_token,
      body: { immediate: true, withdraw: true },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ state: 'active', withdrawn: [old] });
    const replacement = res.body.kid as string;

    expect(await jwksKids(a)).toEqual([replacement]);
    expect(await whoami(a, session.access_token)).toBe(401);
    expect(await whoami(a, fresh.access_token)).toBe(401);
    await vi.waitFor(
      async () => {
        expect(await jwksKids(b)).toEqual([replacement]);
        expect(await whoami(b, session.access_token)).toBe(401);
      },
      { timeout: PUSH_DEADLINE_MS, interval: 50 },
    );

    const refreshed = await b.request('POST', '/api/token/refresh', {
      body: { refresh_token: session.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    expect(kidOf(refreshed.body.access_token)).toBe(replacement);
    expect(await whoami(a, refreshed.body.access_token)).toBe(200);
    expect(await whoami(b, refreshed.body.access_token)).toBe(200);

    await a.app.jot.keys.tick();
    await b.app.jot.keys.tick();
    expect(await jwksKids(a)).toEqual([replacement]);
    expect(await jwksKids(b)).toEqual([replacement]);
    const events = await cluster.store.listSecurityEvents({ limit: 5, type: 'key_withdrawn' });
    expect(events[0]).toMatchObject({ userId: admin.userId, detail: { kid: old, replacedBy: replacement } });
  });
});

async function signIn(
  server: TestServer,
  email: string,
): Promise<{ access_token: string; refresh_token: string }> {
  const res = await server.request('POST', '/api/login', {
    body: { email, password: 'correct horse battery' },
  });
  expect(res.status).toBe(200);
  return res.body;
}

describe('withdrawing a signing key needs a recent authentication, as rotating does', () => {
  let now = Date.UTC(2032, 0, 1);
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer({ stepUpMaxAge: '15m', accessTokenTtl: '1h' }, { clock: () => now });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers 401 ERR_STEP_UP_REQUIRED once auth_time is older than the limit', async () => {
    const admin = await signUp(server, 'admin@example.com');
    const rotated = await server.request('POST', '/api/admin/keys/rotate', {
      token: admin.access_token,
      body: { immediate: true },
    });
    expect(rotated.status).toBe(201);
    now += 16 * 60_000;
    for (const [path, body] of [
      [`/api/admin/keys/${kidOf(admin.access_token)}/withdraw`, undefined],
      ['/api/admin/keys/rotate', { immediate: true, withdraw: true }],
    ] as const) {
      const res = await server.request('POST', path, { token: admin.access_token, body });
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ code: 'ERR_STEP_UP_REQUIRED' });
    }
    expect(await jwksKids(server)).toContain(kidOf(admin.access_token));
  });

  it('refuses withdraw with a rotation that does not sign at once (400)', async () => {
    const admin = await signIn(server, 'admin@example.com');
    const res = await server.request('POST', '/api/admin/keys/rotate', {
      token: admin.access_token,
      body: { immediate: false, withdraw: true },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_VALIDATION' });
  });
});
