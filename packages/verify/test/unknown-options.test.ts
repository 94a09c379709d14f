/**
 * Regression (walkthrough 2026-12-02): `feedUrl`/`streamUrl` given at the top level, next to `jwksUri`, were silently
 * ignored and the verifier followed the issuer's default feed. Every option name the verifier does not know, at the
 * top level or inside a nested object, is a `TypeError` when it is built, naming the option and, for a known
 * misplacement, where it belongs.
 */
import { describe, expect, it } from 'vitest';

import { createVerifier, type VerifierOptions } from '../src/index.js';
import type { DecryptionOptions } from '../src/decrypt.js';
import type { DPoPOptions } from '../src/dpop.js';
import { checkOptionNames } from '../src/option-names.js';
import type { ReplicatedRevocationOptions, StrictRevocationOptions } from '../src/options.js';
import { recordingLogger } from './support/wait.js';

const SECRET = 'a-revocation-secret-of-enough-length-0123456789';
const base = {
  issuer: 'http://127.0.0.1:9',
  audience: 'http://127.0.0.1:9',
  logger: recordingLogger(),
};

/** The message of the `TypeError` building a verifier with `options` throws. */
function refusal(options: Record<string, unknown>): string {
  try {
    const verifier = createVerifier({ ...base, ...options } as unknown as VerifierOptions);
    void verifier.close();
  } catch (err) {
    expect(err).toBeInstanceOf(TypeError);
    return (err as TypeError).message;
  }
  throw new Error('the verifier was built');
}

describe('createVerifier refuses option names it does not know', () => {
  it('refuses top-level feedUrl and streamUrl, saying they belong in replicated revocation', () => {
    const revocation = { strategy: 'replicated', secret: SECRET };
    const feed = refusal({ feedUrl: 'http://127.0.0.1:9/api/revocations', revocation });
    expect(feed).toContain('"feedUrl"');
    expect(feed).toContain("revocation: { strategy: 'replicated', feedUrl }");
    const stream = refusal({ streamUrl: 'http://127.0.0.1:9/api/revocations/stream', revocation });
    expect(stream).toContain('"streamUrl"');
    expect(stream).toContain("revocation: { strategy: 'replicated', streamUrl }");
  });

  it('refuses top-level introspectionUrl, secret and redis, and revocation settings given with revocation none', () => {
    expect(
      refusal({ introspectionUrl: 'http://x/i', revocation: { strategy: 'strict', secret: SECRET } }),
    ).toContain("revocation: { strategy: 'strict', introspectionUrl }");
    expect(refusal({ secret: SECRET, revocation: 'none' })).toContain('"secret": it belongs in revocation');
    expect(refusal({ feedUrl: 'http://x/f', revocation: 'none' })).toContain('"feedUrl"');
  });

  it('refuses nested names, with the path of the option and where a misplaced one belongs', () => {
    expect(
      refusal({ revocation: { strategy: 'replicated', secret: SECRET, feedURL: 'http://x/f' } }),
    ).toContain('"revocation.feedURL"');
    expect(refusal({ revocation: { strategy: 'strict', secret: SECRET, feedUrl: 'http://x/f' } })).toMatch(
      /"revocation\.feedUrl": it belongs in revocation: \{ strategy: 'replicated', feedUrl \}/,
    );
    expect(
      refusal({ revocation: { strategy: 'replicated', secret: SECRET, introspectionUrl: 'http://x/i' } }),
    ).toContain("revocation: { strategy: 'strict', introspectionUrl }");
    expect(
      refusal({ revocation: { strategy: 'replicated', secret: SECRET, jwksUri: 'http://x/j' } }),
    ).toContain('jwksUri (top level)');
    expect(
      refusal({ revocation: { strategy: 'replicated', secret: SECRET, reconnectDelay: { minimum: '1s' } } }),
    ).toContain('"revocation.reconnectDelay.minimum"');
    expect(refusal({ revocation: 'none', jwks: { maxAge: '1h' } })).toContain('"jwks.maxAge"');
    expect(refusal({ revocation: 'none', jwks: { jwksUri: 'http://x/j' } })).toContain('jwksUri (top level)');
    expect(refusal({ revocation: 'none', cache: { max: 10 } })).toContain('"cache.max"');
    expect(refusal({ revocation: 'none', dpop: { nonces: true } })).toContain('"dpop.nonces"');
    expect(refusal({ revocation: 'none', dpop: { nonce: { secret: SECRET, ttl: 5 } } })).toContain(
      '"dpop.nonce.ttl"',
    );
    expect(refusal({ revocation: 'none', decryption: { keys: [], key: {} } })).toContain('"decryption.key"');
    expect(refusal({ revocation: 'none', dpop: { replay: { redis: {}, prefx: 'p:' } } })).toContain(
      '"dpop.replay.prefx"',
    );
    expect(
      refusal({ revocation: { strategy: 'strict', redis: 'redis://127.0.0.1:9', database: 2 } }),
    ).toContain('"revocation.database"');
  });

  it('refuses settings of a nested object given at the top level, saying where they go', () => {
    expect(refusal({ revocation: 'none', maxStale: '1h' })).toContain('jwks: { maxStale }');
    expect(refusal({ revocation: 'none', maxEntries: 5 })).toContain('cache: { maxEntries }');
    expect(refusal({ revocation: 'none', externalUrl: 'https://api' })).toContain('dpop: { externalUrl }');
    expect(refusal({ revocation: 'none', keys: [] })).toContain('decryption: { keys }');
    expect(refusal({ revocation: 'none', jwksUrl: 'http://x/j' })).toContain('jwksUri (top level)');
    expect(refusal({ revocation: 'none', audiences: ['x'] })).toBe(
      'verify: unknown option "audiences" (see docs/verify.md for the options)',
    );
  });

  it('accepts the endpoints where they belong and leaves a custom strategy object alone', async () => {
    const replicated = createVerifier({
      ...base,
      jwksUri: 'http://127.0.0.1:9/jwks',
      revocation: {
        strategy: 'replicated',
        secret: SECRET,
        feedUrl: 'http://127.0.0.1:9/api/revocations',
        streamUrl: 'http://127.0.0.1:9/api/revocations/stream',
        reconnectDelay: { min: '1s', max: '2s' },
      },
    });
    await replicated.close();
    const custom = createVerifier({
      ...base,
      revocation: {
        ready: () => Promise.resolve(),
        check: () => undefined,
        stats: () => ({ strategy: 'custom' }),
        close: () => Promise.resolve(),
        extra: 1,
      } as never,
    });
    await custom.close();
  });

  it('accepts every option name of every options type in its place (each object below must name them all)', () => {
    // `Every<T>`: an object naming every option of `T` (tsc refuses one that misses a name), values left unchecked.
    type Every<T> = { [K in T extends unknown ? keyof T : never]-?: unknown };
    const dpop: Every<DPoPOptions> = {
      externalUrl: 0,
      required: 0,
      replay: {
        redis: 0,
        prefix: 0,
        memory: { maxEntries: 0, singleInstance: 0 } satisfies Every<
          Extract<DPoPOptions['replay'], { memory: unknown }>['memory']
        >,
      } satisfies Every<Exclude<DPoPOptions['replay'], 'memory' | undefined>>,
      nonce: { secret: 0, window: 0 } satisfies Every<NonNullable<DPoPOptions['nonce']>>,
      maxAge: 0,
      algorithms: 0,
    };
    const replicated: Every<ReplicatedRevocationOptions> = {
      strategy: 'replicated',
      secret: 0,
      feedUrl: 0,
      streamUrl: 0,
      maxStaleness: 0,
      failOpen: 0,
      heartbeatTimeout: 0,
      reconnectDelay: { min: 0, max: 0 } satisfies Every<
        NonNullable<ReplicatedRevocationOptions['reconnectDelay']>
      >,
      pruneInterval: 0,
      timeout: 0,
    };
    const strict: Every<StrictRevocationOptions> = {
      strategy: 'strict',
      secret: 0,
      introspectionUrl: 0,
      redis: 0,
      namespace: 0,
      deployment: 0,
      failOpen: 0,
      timeout: 0,
    };
    const every = (revocation: unknown): Every<VerifierOptions> => ({
      issuer: 0,
      audience: 0,
      profile: 0,
      algorithms: 0,
      jwksUri: 0,
      revocation,
      jwks: {
        cooldown: 0,
        minCacheAge: 0,
        maxCacheAge: 0,
        defaultCacheAge: 0,
        timeout: 0,
        maxStale: 0,
      } satisfies Every<NonNullable<VerifierOptions['jwks']>>,
      cache: { maxEntries: 0, maxBytes: 0 } satisfies Every<
        Exclude<VerifierOptions['cache'], false | undefined>
      >,
      offload: 0,
      cookies: 0,
      clockTolerance: 0,
      realm: 0,
      maxTokenLength: 0,
      fetch: 0,
      clock: 0,
      logger: 0,
      dpop,
      decryption: { keys: 0, maxLength: 0, required: 0 } satisfies Every<DecryptionOptions>,
    });
    expect(() => checkOptionNames(every(replicated))).not.toThrow();
    expect(() => checkOptionNames(every(strict))).not.toThrow();
    // The same objects with one name more are refused (the check above is not one that passes everything).
    expect(() => checkOptionNames({ ...every(strict), extra: 0 })).toThrow(TypeError);
    expect(() => checkOptionNames(every({ ...replicated, reconnectDelay: { min: 0, extra: 0 } }))).toThrow(
      '"revocation.reconnectDelay.extra"',
    );
  });
});
