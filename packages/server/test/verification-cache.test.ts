/**
 * The server's cache of verified access tokens (TokenService.verify): a token presented again skips the signature
 * check, but an expired token, a token whose key left the key ring or was replaced under the same kid, and a
 * revoked token are refused exactly as without the cache.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { generateKeyPair, isJoseError, KeySet, type Key } from '@jot/jose';

import type { KeyManager } from '../src/keys/types.js';
import { createTokenService, type TokenService } from '../src/services/tokens.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';

const ISSUER = 'https://auth.test';
const T0 = Date.UTC(2030, 0, 1);
const TTL = 300;
const TOLERANCE = 30;

/** A key ring of our own: the signing key and the published keys can be swapped between calls. */
function ring(initial: Key) {
  let signing = initial;
  let published: Key[] = [initial];
  const manager: Pick<KeyManager, 'activeKey' | 'list' | 'select' | 'refreshForUnknownKid'> = {
    activeKey: () => signing,
    list: () =>
      published.map((k) => ({ kid: k.kid, alg: k.alg }) as unknown as ReturnType<KeyManager['list']>[number]),
    select: (alg, kid) => new KeySet(published.map((k) => k.publicKey())).select(alg, kid),
    refreshForUnknownKid: () => Promise.resolve(false),
  };
  return {
    manager: manager as KeyManager,
    publish(keys: Key[]) {
      published = keys;
    },
    sign(key: Key) {
      signing = key;
    },
  };
}

function service(keys: KeyManager, clock: () => number, cacheSize?: number): TokenService {
  return createTokenService(
    keys,
    { issuer: ISSUER, audience: ['api'], accessTokenTtlSeconds: TTL, clockToleranceSeconds: TOLERANCE },
    clock,
    undefined,
    cacheSize,
  );
}

async function issue(tokens: TokenService, user = 'u1'): Promise<string> {
  const issued = await tokens.issue({
    userId: user,
    sessionId: 's1',
    tokenVersion: 1,
    authTime: T0,
    roles: ['user'],
  });
  return issued.token;
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isJoseError(err) ? err.code : String(err);
  }
}

describe('the verification cache', () => {
  it('answers a token verified before from the cache: the same frozen claims', async () => {
    const keys = ring(generateKeyPair('ES256', { kid: 'k1' }));
    const now = T0;
    const tokens = service(keys.manager, () => now);
    const token = await issue(tokens);
    const first = tokens.verify(token);
    const second = tokens.verify(token);
    expect(second).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.roles)).toBe(true);
    expect(first).toMatchObject({ sub: 'u1', sid: 's1', iss: ISSUER });
  });

  it('refuses a cached token once it has expired, by the same rule and tolerance as the verifier', async () => {
    const keys = ring(generateKeyPair('ES256', { kid: 'k1' }));
    let now = T0;
    const tokens = service(keys.manager, () => now);
    const token = await issue(tokens);
    tokens.verify(token);
    // Still inside the tolerance after exp: accepted, with or without the cache.
    now = T0 + (TTL + TOLERANCE - 1) * 1000;
    expect(tokens.verify(token).sub).toBe('u1');
    now = T0 + (TTL + TOLERANCE) * 1000;
    expect(codeOf(() => tokens.verify(token))).toBe('ERR_JWT_EXPIRED');
    expect(codeOf(() => service(keys.manager, () => now).verify(token))).toBe('ERR_JWT_EXPIRED');
  });

  it('refuses a cached token whose key left the key ring', async () => {
    const old = generateKeyPair('ES256', { kid: 'k1' });
    const keys = ring(old);
    const tokens = service(keys.manager, () => T0);
    const token = await issue(tokens);
    tokens.verify(token);
    const next = generateKeyPair('ES256', { kid: 'k2' });
    keys.publish([old, next]);
    // Still published: still accepted.
    expect(tokens.verify(token).sub).toBe('u1');
    keys.publish([next]);
    expect(codeOf(() => tokens.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY');
  });

  it('refuses a cached token when its kid now names other key material (re-keyed under the same kid)', async () => {
    const keys = ring(generateKeyPair('ES256', { kid: 'k1' }));
    const tokens = service(keys.manager, () => T0);
    const token = await issue(tokens);
    tokens.verify(token);
    keys.publish([generateKeyPair('ES256', { kid: 'k1' })]);
    expect(codeOf(() => tokens.verify(token))).toBe('ERR_JWS_SIGNATURE_INVALID');
  });

  it('refuses a cached token when the ring’s algorithms change to exclude its own', async () => {
    const es = generateKeyPair('ES256', { kid: 'k1' });
    const keys = ring(es);
    const tokens = service(keys.manager, () => T0);
    const token = await issue(tokens);
    tokens.verify(token);
    keys.publish([generateKeyPair('EdDSA', { kid: 'k1' })]);
    expect(codeOf(() => tokens.verify(token))).toBeDefined();
  });

  it('is bounded: the least recently used token is dropped first', async () => {
    const keys = ring(generateKeyPair('ES256', { kid: 'k1' }));
    const tokens = service(keys.manager, () => T0, 2);
    const [a, b, c] = (await Promise.all(['a', 'b', 'c'].map((user) => issue(tokens, user)))) as [
      string,
      string,
      string,
    ];
    const claimsA = tokens.verify(a);
    const claimsB = tokens.verify(b);
    expect(tokens.verify(a)).toBe(claimsA); // a is now the most recently used
    tokens.verify(c); // drops b
    expect(tokens.verify(a)).toBe(claimsA);
    expect(tokens.verify(b)).not.toBe(claimsB);
    expect(tokens.verify(b)).toEqual(claimsB);
  });

  it('keeps nothing when its size is 0', async () => {
    const keys = ring(generateKeyPair('ES256', { kid: 'k1' }));
    const tokens = service(keys.manager, () => T0, 0);
    const token = await issue(tokens);
    expect(tokens.verify(token)).not.toBe(tokens.verify(token));
  });
});

describe('revocation with the cache, over HTTP', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server.close();
  });

  it('a token answered from the cache is still refused once its session ends, and once the account is cut off', async () => {
    const a = await signUp(server, 'cached@example.com');
    for (let i = 0; i < 3; i++) {
      expect((await server.request('GET', '/api/whoami', { token: a.access_token })).status).toBe(200);
    }
    expect((await server.request('POST', '/api/logout', { token: a.access_token })).status).toBe(204);
    const after = await server.request('GET', '/api/whoami', { token: a.access_token });
    expect(after.status).toBe(401);
    expect(after.body.code).toMatch(/^ERR_(SESSION_ENDED|TOKEN_REVOKED)$/);

    const b = await server.request('POST', '/api/login', {
      body: { email: 'cached@example.com', password: 'correct horse battery' },
    });
    expect((await server.request('GET', '/api/whoami', { token: b.body.access_token })).status).toBe(200);
    expect((await server.request('POST', '/api/logout-all', { token: b.body.access_token })).status).toBe(
      204,
    );
    const cut = await server.request('GET', '/api/whoami', { token: b.body.access_token });
    expect(cut.status).toBe(401);
    expect(cut.body.code).toBe('ERR_TOKEN_REVOKED');
  });
});
