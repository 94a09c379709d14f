/** The remote JWKS cache against a fake issuer that counts fetches and can go down. */
import { randomBytes } from 'node:crypto';

import { generateKeyPair } from '@jot/jose';
import { beforeEach, describe, expect, it } from 'vitest';

import { createVerifier, isVerifyError, VERIFIER_DEFAULTS } from '../src/index.js';
import { discoverIssuer } from '../src/discovery.js';
import { cacheLifetime } from '../src/remote-jwks.js';
import { AUDIENCE } from '../../../test-support/fake-issuer.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { recordingLogger, waitFor } from './support/wait.js';

let now: number;
const clock = (): number => now;
const harness = useIssuerVerifier({ clock });
const build = harness.build;

beforeEach(() => {
  now = Date.now();
});

/** A token issued at the test clock's now (the issuer signs with the real clock). */
function fresh(claims: Record<string, unknown> = {}): string {
  const iat = Math.floor(now / 1000);
  return harness.issuer.tokens.sign({ iat, exp: iat + 300, ...claims });
}

async function rejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
  return 'accepted';
}

describe('remote JWKS', () => {
  it('discovers jwks_uri from the issuer metadata when not given', async () => {
    const v = build();
    await v.ready();
    expect(harness.issuer.counts.metadata).toBe(1);
    expect(v.stats().jwks.uri).toBe(`${harness.issuer.url}/.well-known/jwks.json`);
    expect((await v.verify(harness.issuer.tokens.sign({ sub: 'a' }))).sub).toBe('a');
  });

  it('refuses metadata whose issuer is not the configured one (RFC 8414 §3.3)', async () => {
    await expect(discoverIssuer(`${harness.issuer.url}/other`)).rejects.toThrow(/does not match|404/);
  });

  it('sees a key rotated in without a restart: an unknown kid triggers one refetch', async () => {
    const v = build({ jwksUri: `${harness.issuer.url}/.well-known/jwks.json` });
    await v.ready();
    expect(harness.issuer.counts.metadata).toBe(0);
    expect(harness.issuer.counts.jwks).toBe(1);
    now += 60_000; // past the cooldown since the first fetch
    const next = harness.issuer.tokens.rotate({ activate: true, removeOld: true });
    const claims = await v.verify(harness.issuer.tokens.sign({ sub: 'rotated' }, { key: next }));
    expect(claims.sub).toBe('rotated');
    expect(harness.issuer.counts.jwks).toBe(2);
    expect(v.stats().jwks.kids).toEqual([next.kid]);
  });

  it('sees a pre-published key when the cache expires (Cache-Control max-age)', async () => {
    harness.issuer.jwksCacheControl = 'public, max-age=120';
    const v = build({ jwks: { minCacheAge: 0 } });
    await v.ready();
    expect(v.stats().jwks.expiresAt! - v.stats().jwks.fetchedAt!).toBe(120_000);
    const next = harness.issuer.tokens.rotate();
    await v.verify(harness.issuer.tokens.sign());
    expect(harness.issuer.counts.jwks).toBe(1);
    now += 121_000;
    await v.verify(harness.issuer.tokens.sign()); // served from the expired set while a background refresh runs
    await waitFor(() => v.stats().jwks.kids.includes(next.kid), 1000, 'refreshed key set');
    expect(harness.issuer.counts.jwks).toBe(2);
  });

  it('fetches at most once per cooldown during a flood of unknown kids', async () => {
    const v = build({ jwks: { cooldown: '30s' } });
    await v.ready();
    now += 31_000;
    const before = harness.issuer.counts.jwks;
    const results = await Promise.all(
      Array.from({ length: 200 }, () => {
        const rogue = generateKeyPair('ES256', { kid: randomBytes(8).toString('hex') });
        return rejection(v.verify(harness.issuer.tokens.sign({}, { key: rogue })));
      }),
    );
    expect(new Set(results)).toEqual(new Set(['ERR_JWKS_NO_MATCHING_KEY']));
    expect(harness.issuer.counts.jwks - before).toBe(1);
    expect(v.stats().jwks.throttled).toBeGreaterThanOrEqual(190);
    // Still throttled a little later; one more fetch once the cooldown has passed.
    now += 10_000;
    await rejection(
      v.verify(harness.issuer.tokens.sign({}, { key: generateKeyPair('ES256', { kid: 'x1' }) })),
    );
    expect(harness.issuer.counts.jwks - before).toBe(1);
    now += 21_000;
    await rejection(
      v.verify(harness.issuer.tokens.sign({}, { key: generateKeyPair('ES256', { kid: 'x2' }) })),
    );
    expect(harness.issuer.counts.jwks - before).toBe(2);
  });

  it('keeps serving the last good key set while the issuer is down, and says so in its state', async () => {
    harness.issuer.jwksCacheControl = 'max-age=60';
    const logger = recordingLogger();
    const v = build({ logger, jwks: { minCacheAge: 0, cooldown: '10s' } });
    await v.ready();
    harness.issuer.jwksDown = true;
    now += 61_000;
    for (let i = 0; i < 20; i += 1)
      expect((await v.verify(harness.issuer.tokens.sign({ sub: `u${i}` }))).sub).toBe(`u${i}`);
    await waitFor(() => v.stats().jwks.failures === 1, 2000, 'failed refresh');
    const state = v.stats().jwks;
    expect(state.stale).toBe(true);
    expect(state.lastError).toMatch(/jwks\.json/);
    expect(state.kids).toHaveLength(1);
    expect(harness.issuer.counts.jwks).toBe(2); // one failed attempt, not one per request
    expect(logger.lines.some((l) => l.level === 'warn' && /last good key set/.test(l.message))).toBe(true);
  });

  it('an empty key set is an answer, not a failure: tokens of the keys it no longer publishes are refused', async () => {
    // Before, `{"keys": []}` counted as a failed fetch, so the withdrawn keys kept verifying with no time limit.
    harness.issuer.jwksCacheControl = 'max-age=60';
    const logger = recordingLogger();
    const v = build({ logger, jwks: { minCacheAge: 0 } });
    await v.ready();
    const token = harness.issuer.tokens.sign({ sub: 'cached' });
    expect((await v.verify(token)).sub).toBe('cached'); // now in the verification cache
    harness.issuer.tokens.keys = []; // the operator withdraws every key (a compromised one, say)
    now += 61_000;
    await rejection(v.verify(token)); // starts the refresh of the expired set
    await waitFor(() => v.stats().jwks.fetchedAt === now, 2000, 'the refreshed key set');
    expect(v.stats().jwks).toMatchObject({ kids: [], failures: 0, stale: false, lastError: undefined });
    expect(await rejection(v.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(await rejection(v.verify(harness.issuer.tokens.sign({}, { key: generateKeyPair('ES256') })))).toBe(
      'ERR_JWKS_NO_MATCHING_KEY',
    );
    const result = await v.authenticate({ method: 'GET', headers: { authorization: `Bearer ${token}` } });
    expect(result).toMatchObject({ ok: false, response: { status: 401 } });
    expect(logger.lines.filter((l) => /no usable signing key/.test(l.message))).toEqual([
      { level: 'warn', message: expect.stringMatching(/every token is refused/) },
    ]);
  });

  it('a key set with only keys it cannot use is an answer too; a key published later is found by its kid', async () => {
    const jwksUri = `${harness.issuer.url}/custom-jwks.json`;
    let body: unknown = { keys: [{ kty: 'EC', crv: 'P-192', x: 'AAAA', y: 'AAAA', kid: 'odd' }] };
    const fetchJwks = async (input: string, init?: RequestInit): Promise<Response> =>
      input === jwksUri
        ? new Response(JSON.stringify(body), { headers: { 'content-type': 'application/json' } })
        : fetch(input, init);
    const v = build({ jwksUri, fetch: fetchJwks, jwks: { cooldown: '30s' } });
    await v.ready(); // the issuer answered: ready, with no key to verify with
    const token = harness.issuer.tokens.sign({ sub: 'late' });
    expect(await rejection(v.verify(token))).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(v.stats().jwks).toMatchObject({ kids: [], failures: 0 });
    body = harness.issuer.tokens.jwks();
    now += 31_000; // past the cooldown: the unknown kid refetches
    expect((await v.verify(token)).sub).toBe('late');
  });

  it('trusts a key set it cannot refresh for at most jwks.maxStale past its lifetime, then refuses with 503', async () => {
    // Before, the last good set kept verifying for as long as the JWKS endpoint failed: a key the issuer withdrew
    // meanwhile stayed trusted with no time limit.
    harness.issuer.jwksCacheControl = 'max-age=60';
    const logger = recordingLogger();
    const v = build({ logger, jwks: { minCacheAge: 0, cooldown: '10s', maxStale: '5m' } });
    await v.ready();
    const cached = fresh({ sub: 'cached', exp: Math.floor(now / 1000) + 7200 });
    expect((await v.verify(cached)).sub).toBe('cached');
    harness.issuer.jwksDown = true;
    now += 60_000 + 299_000; // 1 s short of the bound: still served
    expect((await v.verify(fresh({ sub: 'in-time' }))).sub).toBe('in-time');
    await waitFor(() => v.stats().jwks.failures === 1, 2000, 'failed refresh');
    now += 1_000;
    const result = await v.authenticate({ method: 'GET', headers: { authorization: `Bearer ${cached}` } });
    expect(result).toMatchObject({
      ok: false,
      error: { code: 'ERR_VERIFY_KEYS_UNAVAILABLE', reason: 'stale' },
      response: { status: 503, headers: { 'retry-after': '1' } },
    });
    expect(await rejection(v.verify(fresh()))).toBe('ERR_VERIFY_KEYS_UNAVAILABLE');
    expect(v.stats().jwks).toMatchObject({ kids: [], stale: true });
    expect(v.stats().cache?.size).toBe(0);
    expect(logger.lines.filter((l) => /maxStale/.test(l.message))).toEqual([
      { level: 'warn', message: expect.stringMatching(/no longer verifies tokens/) },
    ]);
    // The issuer answers again: the next request past the cooldown fetches the set and is served.
    harness.issuer.jwksDown = false;
    now += 10_000;
    expect((await v.verify(cached)).sub).toBe('cached');
    expect(v.stats().jwks.stale).toBe(false);
  });

  it('a set past jwks.maxStale that nobody asked to refresh is fetched before it verifies, not refused', async () => {
    harness.issuer.jwksCacheControl = 'max-age=60';
    const v = build({ jwks: { minCacheAge: 0 } }); // maxStale: the default
    await v.ready();
    expect(VERIFIER_DEFAULTS.jwks.maxStale).toBe('1h');
    now += 60_000 + 3_600_000; // an idle hour and more: no request, so no refresh
    expect((await v.verify(fresh({ sub: 'after-idle' }))).sub).toBe('after-idle');
    expect(harness.issuer.counts.jwks).toBe(2);
    expect(() => build({ jwks: { maxStale: 'soon' } })).toThrow(TypeError);
  });

  it('answers 503 ERR_VERIFY_KEYS_UNAVAILABLE when no key set was ever loaded', async () => {
    harness.issuer.jwksDown = true;
    const v = build();
    await expect(v.ready()).rejects.toThrow();
    const result = await v.authenticate({
      method: 'GET',
      headers: { authorization: `Bearer ${harness.issuer.tokens.sign()}` },
    });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe('ERR_VERIFY_KEYS_UNAVAILABLE');
      expect(result.response.status).toBe(503);
    }
  });

  it('reads max-age and Age, and treats no-store as zero', () => {
    expect(cacheLifetime(new Headers({ 'cache-control': 'public, max-age=600', age: '100' }))).toBe(500_000);
    expect(cacheLifetime(new Headers({ 'cache-control': 'no-store' }))).toBe(0);
    expect(cacheLifetime(new Headers())).toBeUndefined();
  });

  it('refuses HMAC algorithms and missing options when built (TypeError, not a token error)', () => {
    expect(() => build({ algorithms: ['HS256'] })).toThrow(TypeError);
    expect(() => createVerifier({ issuer: 'nope', audience: AUDIENCE, revocation: 'none' })).toThrow(
      TypeError,
    );
    expect(() => createVerifier({ issuer: harness.issuer.url, audience: [], revocation: 'none' })).toThrow(
      TypeError,
    );
    expect(() =>
      createVerifier({
        issuer: harness.issuer.url,
        audience: AUDIENCE,
        revocation: { strategy: 'replicated', secret: '' },
      }),
    ).toThrow(TypeError);
  });
});
