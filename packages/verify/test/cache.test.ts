/**
 * The verification cache: entries are tied to the key material that verified them (RFC 7638 thumbprints, not
 * kids), an expired key set is refreshed even when every request hits the cache, and cached claims are frozen.
 */
import { generateKeyPair } from '@jot/jose';
import { beforeEach, describe, expect, it } from 'vitest';

import { compileGuards, type AccessTokenClaims } from '../src/index.js';
import { VerificationCache } from '../src/cache.js';
import { codeOf } from './support/outcome.js';
import { AUDIENCE } from '../../../test-support/fake-issuer.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { waitFor } from './support/wait.js';

let now: number;
const clock = (): number => now;
const harness = useIssuerVerifier({ cache: { maxEntries: 100 }, clock });
const build = harness.build;

beforeEach(() => {
  now = Date.now();
});

describe('verification cache and keys', () => {
  it('drops a cached token when the issuer replaces its key under the same kid, refreshing from a cache hit', async () => {
    harness.issuer.jwksCacheControl = 'max-age=60';
    const v = build({ jwks: { minCacheAge: 0 } });
    await v.ready();
    const old = harness.issuer.tokens.keys[0]!;
    const token = harness.issuer.tokens.sign();
    await v.verify(token);
    await v.verify(token);
    expect(v.stats().cache).toMatchObject({ size: 1, hits: 1 });
    // The old key leaks; the issuer publishes fresh material under the same kid.
    harness.issuer.tokens.keys = [generateKeyPair('ES256', { kid: old.kid })];
    now += 61_000;
    // Every request hits the cache: the hit itself must start the refresh of the expired set.
    expect(await codeOf(v.verify(token))).toBe('accepted');
    await waitFor(() => v.stats().jwks.fetchedAt === now, 2000, 'refreshed key set');
    expect(v.stats().jwks.kids).toEqual([old.kid]);
    expect(v.stats().cache?.size).toBe(0);
    expect(await codeOf(v.verify(token))).toBe('ERR_JWS_SIGNATURE_INVALID');
    expect((await v.verify(harness.issuer.tokens.sign({ sub: 'fresh' }))).sub).toBe('fresh');
  });

  it('keeps cached tokens whose key is still published when another key goes', async () => {
    harness.issuer.jwksCacheControl = 'max-age=60';
    const v = build({ jwks: { minCacheAge: 0 } });
    const kept = harness.issuer.tokens.keys[0]!;
    const gone = harness.issuer.tokens.rotate();
    await v.ready();
    const keptToken = harness.issuer.tokens.sign({}, { key: kept });
    const goneToken = harness.issuer.tokens.sign({}, { key: gone });
    await v.verify(keptToken);
    await v.verify(goneToken);
    harness.issuer.tokens.keys = [kept];
    now += 61_000;
    await v.verify(keptToken);
    await waitFor(() => v.stats().jwks.fetchedAt === now, 2000, 'refreshed key set');
    expect(v.stats().cache?.size).toBe(1);
    await v.verify(keptToken);
    expect(v.stats().cache?.hits).toBe(2);
  });

  it('holds no more estimated bytes than maxBytes: long tokens are bounded by size before count', () => {
    expect(() => new VerificationCache(10, 1000)).toThrow(TypeError);
    const cache = new VerificationCache(10_000, 1 << 20);
    const claims = { exp: 2_000_000_000 } as AccessTokenClaims;
    const long = (i: number) => `${i}.`.padEnd(16 * 1024, 'x'); // as long as an encrypted token may be
    for (let i = 0; i < 1000; i++) cache.set(long(i), claims, 'thumb');
    const { size, bytes, evictions } = cache.stats();
    expect(bytes).toBeLessThanOrEqual(1 << 20);
    expect(size).toBe(Math.floor((1 << 20) / (16 * 1024 + 1024)));
    expect(evictions).toBe(1000 - size);
    expect(cache.get(long(999), 0)).toBe(claims); // the most recent stay
    expect(cache.get(long(0), 0)).toBeUndefined();
    cache.revoke('reset');
    expect(cache.stats()).toMatchObject({ size: 0, bytes: 0 });
  });

  it('evicts by thumbprint (VerificationCache)', () => {
    const cache = new VerificationCache(10);
    const claims = { exp: 2_000_000_000 } as AccessTokenClaims;
    cache.set('a', claims, 'thumb-1');
    cache.set('b', claims, 'thumb-2');
    cache.removeKeys(['thumb-1']);
    expect(cache.get('a', 0)).toBeUndefined();
    expect(cache.get('b', 0)).toBe(claims);
  });
});

describe('cached claims', () => {
  it('are deep-frozen, so a handler cannot change what later requests with the token see', async () => {
    const v = build();
    await v.ready();
    const token = harness.issuer.tokens.sign({
      aud: [AUDIENCE, 'other'],
      permissions: ['read'],
      extra: { nested: [1] },
    });
    const request = { method: 'GET', headers: { authorization: `Bearer ${token}` } };
    const admin = compileGuards({ roles: ['admin'] });
    const first = await v.authenticate(request);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const claims = first.auth.claims;
    expect(() => (claims.roles as string[]).push('admin')).toThrow(TypeError);
    expect(() => (claims.permissions as string[]).push('write')).toThrow(TypeError);
    expect(() => (claims.aud as string[]).push('evil')).toThrow(TypeError);
    expect(() => {
      (claims as { sub: string }).sub = 'someone-else';
    }).toThrow(TypeError);
    expect(Object.isFrozen((claims.extra as { nested: unknown }).nested)).toBe(true);
    // The cache hands out the same (unchanged) object, and guards still work on it.
    const second = await v.authenticate(request, admin);
    expect(v.stats().cache?.hits).toBe(1);
    expect(second.ok ? 'accepted' : second.error.code).toBe('ERR_FORBIDDEN');
    const guarded = await v.authenticate(
      request,
      compileGuards({ roles: ['user'], permissions: ['read'], scopes: ['orders:read'], maxAuthAge: '5m' }),
    );
    expect(guarded.ok).toBe(true);
    if (guarded.ok) expect(guarded.auth.claims.roles).toEqual(['user']);
  });

  it('are frozen without a cache too, including the default empty roles', async () => {
    const v = build({ cache: false });
    await v.ready();
    const claims = await v.verify(harness.issuer.tokens.sign({ roles: undefined }));
    expect(claims.roles).toEqual([]);
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.roles)).toBe(true);
  });
});
