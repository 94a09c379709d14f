/**
 * End-to-end key rotation and restarts: old tokens stay valid until they expire, new tokens carry the new kid,
 * and a restarted server (same data directory and KEK) keeps its users, sessions and keys.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { KeySet, decodeUnverified, verify } from '@jot/jose';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

const running: TestServer[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});

async function start(...args: Parameters<typeof startServer>): Promise<TestServer> {
  const server = await startServer(...args);
  running.push(server);
  return server;
}

describe('key rotation', () => {
  it('publishes the new key first, then signs with it; old tokens verify until they expire', async () => {
    let now = Date.UTC(2031, 5, 1);
    const server = await start(
      { keyPrepublish: '10m', jwksMaxAge: '5m', accessTokenTtl: '15m' },
      { clock: () => now },
    );
    const admin = await signUp(server, 'keys@example.com');
    const oldKid = decodeUnverified(admin.access_token).header.kid;

    const rotated = await server.request('POST', '/api/admin/keys/rotate', {
      token: admin.access_token,
      body: {},
    });
    expect(rotated.status).toBe(201);
    const newKid = rotated.body.kid as string;
    expect(newKid).not.toBe(oldKid);

    // Published before it signs anything: verifiers that cache the JWKS already know it.
    const jwks = await server.request('GET', '/.well-known/jwks.json');
    expect(jwks.body.keys.map((k: { kid: string }) => k.kid)).toEqual(
      expect.arrayContaining([oldKid, newKid]),
    );
    const maxAge = Number(/max-age=(\d+)/.exec(jwks.headers.get('cache-control') ?? '')?.[1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(300);
    const beforeSwitch = await server.request('POST', '/api/login', {
      body: { email: 'keys@example.com', password: 'correct horse battery' },
    });
    expect(decodeUnverified(beforeSwitch.body.access_token).header.kid).toBe(oldKid);

    now += 10 * 60_000;
    const afterSwitch = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: beforeSwitch.body.refresh_token },
    });
    expect(decodeUnverified(afterSwitch.body.access_token).header.kid).toBe(newKid);

    // The old token still works, and verifies against the published JWKS.
    expect(
      (await server.request('GET', '/api/whoami', { token: beforeSwitch.body.access_token })).status,
    ).toBe(200);
    const keys = KeySet.fromJWKS((await server.request('GET', '/.well-known/jwks.json')).body);
    for (const token of [beforeSwitch.body.access_token, afterSwitch.body.access_token]) {
      expect(
        verify(token, keys, { algorithms: ['ES256'], currentDate: new Date(now), typ: 'at+jwt' }).payload.iss,
      ).toBe('http://jot.test');
    }

    // Once every token the old key signed has expired, it leaves the JWKS.
    now += 16 * 60_000;
    await server.app.jot.keys.tick();
    const later = await server.request('GET', '/.well-known/jwks.json');
    expect(later.body.keys.map((k: { kid: string }) => k.kid)).toEqual([newKid]);
  });

  it('an immediate rotation (key compromise) signs with the new key at once', async () => {
    const server = await start();
    const admin = await signUp(server, 'urgent@example.com');
    const res = await server.request('POST', '/api/admin/keys/rotate', {
      token: admin.access_token,
      body: { immediate: true },
    });
    expect(res.status).toBe(201);
    const fresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: admin.refresh_token },
    });
    expect(decodeUnverified(fresh.body.access_token).header.kid).toBe(res.body.kid);
  });

  it('only admins may rotate', async () => {
    const server = await start();
    await signUp(server, 'first@example.com');
    const user = await signUp(server, 'second@example.com');
    expect(
      (await server.request('POST', '/api/admin/keys/rotate', { token: user.access_token, body: {} })).status,
    ).toBe(403);
  });
});

describe('restart', () => {
  it('keeps users, sessions, refresh tokens and signing keys (nothing lost)', async () => {
    const first = await startServer();
    const tokens = await signUp(first, 'restart@example.com');
    const jwksBefore = (await first.request('GET', '/.well-known/jwks.json')).body;
    await first.close({ keepData: true });

    const second = await start({}, { dataDir: first.dataDir });
    expect((await second.request('GET', '/.well-known/jwks.json')).body).toEqual(jwksBefore);
    expect((await second.request('GET', '/api/whoami', { token: tokens.access_token })).status).toBe(200);
    const refreshed = await second.request('POST', '/api/token/refresh', {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(refreshed.status).toBe(200);
    const login = await second.request('POST', '/api/login', {
      body: { email: 'restart@example.com', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
  });

  it('refuses to start with a different KEK rather than lose or expose the keys', async () => {
    const first = await startServer({ kek: Buffer.alloc(32, 1).toString('base64url') });
    await first.close({ keepData: true });
    await expect(
      startServer({ kek: Buffer.alloc(32, 2).toString('base64url') }, { dataDir: first.dataDir }),
    ).rejects.toThrow(/JOT_KEK/);
  });
});

describe('single-token mode', () => {
  it('renews a live access token, revokes the old jti, and issues no refresh token', async () => {
    const server = await start({ tokenMode: 'single' });
    await server.request('POST', '/api/register', {
      body: { email: 'single@example.com', password: 'a long password' },
    });
    const login = await server.request('POST', '/api/login', {
      body: { email: 'single@example.com', password: 'a long password' },
    });
    expect(login.body.refresh_token).toBeUndefined();
    const renewed = await server.request('POST', '/api/token/renew', { token: login.body.access_token });
    expect(renewed.status).toBe(200);
    expect((await server.request('GET', '/api/whoami', { token: login.body.access_token })).body.code).toBe(
      'ERR_TOKEN_REVOKED',
    );
    expect((await server.request('GET', '/api/whoami', { token: renewed.body.access_token })).status).toBe(
      200,
    );
    const old = decodeUnverified(login.body.access_token).payload;
    expect(decodeUnverified(renewed.body.access_token).payload.sid).toBe(old.sid);
  });

  it('renew is refused in refresh mode with a clear code', async () => {
    const server = await start();
    const tokens = await signUp(server, 'norenew@example.com');
    const res = await server.request('POST', '/api/token/renew', { token: tokens.access_token });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_RENEW_NOT_ENABLED');
  });
});
