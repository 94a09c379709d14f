/**
 * A key withdrawn while a signature check waits on the thread pool: the check was started with the key the old set
 * held, and a key-set refresh that removed it (evicting its tokens from the cache) lands before the check ends. The
 * token must be refused, and nothing may be cached under the withdrawn key — before, it was accepted and then served
 * from the cache until its `exp` (an issuer that withdraws a leaked key expects its tokens to stop at once).
 */
import { pbkdf2 } from 'node:crypto';

import { generateKeyPair } from '@jot/jose';
import { beforeEach, describe, expect, it } from 'vitest';

import { codeOf } from './support/outcome.js';
import { useIssuerVerifier } from './support/issuer-verifier.js';
import { waitFor } from './support/wait.js';

let now: number;
const clock = (): number => now;
/** Holds the verifier's key-set fetches back while set, so a refresh can be made to land at a chosen moment. */
let gate: Promise<void> | undefined;
const gatedFetch = async (input: string, init?: RequestInit): Promise<Response> => {
  if (input.includes('jwks') && gate !== undefined) await gate;
  return fetch(input, init);
};
const harness = useIssuerVerifier({ cache: { maxEntries: 100 }, clock, fetch: gatedFetch });

beforeEach(() => {
  now = Date.now();
  gate = undefined;
});

/** Occupies libuv's pool for a while, so an offloaded check queues behind this work. */
function busyPool(jobs = 16): Promise<unknown[]> {
  return Promise.all(
    Array.from({ length: jobs }, () => new Promise((done) => pbkdf2('x', 'y', 200_000, 32, 'sha256', done))),
  );
}

describe('a key withdrawn while its token is checked on the thread pool', () => {
  it('refuses the token and caches nothing under the withdrawn key', async () => {
    harness.issuer.jwksCacheControl = 'max-age=60';
    const verifier = harness.build({ offload: 'always', jwks: { minCacheAge: 0, cooldown: 0 } });
    await verifier.ready();
    const leaked = harness.issuer.tokens.keys[0]!;
    const exp = Math.floor(now / 1000) + 86_400;
    const forged = harness.issuer.tokens.sign({ sub: 'attacker', exp }, { key: leaked });
    // The issuer withdraws the leaked key; the verifier's set is due for a refresh.
    harness.issuer.tokens.keys = [generateKeyPair('ES256', { kid: 'replacement' })];
    now += 61_000;
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const pool = busyPool();
    // The key is picked from the old set; the check queues on the pool. Its outcome is read at once (codeOf), so a
    // refusal that comes before the test looks at it is never an unhandled rejection.
    const first = codeOf(verifier.verify(forged));
    release(); // the refresh lands while the check waits
    await waitFor(() => verifier.stats().jwks.fetchedAt === now, 5000, 'the refreshed key set');
    expect(verifier.stats().jwks.kids).toEqual(['replacement']);
    await pool;
    expect(await first).toBe('ERR_JWKS_NO_MATCHING_KEY');
    expect(verifier.stats().cache?.size).toBe(0);
    now += 30 * 60_000;
    expect(await codeOf(verifier.verify(forged))).toBe('ERR_JWKS_NO_MATCHING_KEY');
  }, 30_000);

  it('a refresh that keeps the key changes nothing: the token is accepted and cached', async () => {
    harness.issuer.jwksCacheControl = 'max-age=60';
    const verifier = harness.build({ offload: 'always', jwks: { minCacheAge: 0, cooldown: 0 } });
    await verifier.ready();
    const token = harness.issuer.tokens.sign({ sub: 'user', exp: Math.floor(now / 1000) + 3600 });
    now += 61_000;
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const pool = busyPool();
    const first = codeOf(verifier.verify(token));
    release();
    await waitFor(() => verifier.stats().jwks.fetchedAt === now, 5000, 'the refreshed key set');
    await pool;
    expect(await first).toBe('accepted');
    expect(verifier.stats().cache?.size).toBe(1);
  }, 30_000);
});
