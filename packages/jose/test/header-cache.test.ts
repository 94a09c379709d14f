/**
 * The per-verifier cache of parsed headers (keyed on the exact header segment) and the reused decode buffer of the
 * synchronous path: neither may let a token through that a fresh parse would refuse, nor mix up two tokens.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { describe, expect, it, vi } from 'vitest';

import {
  KeySet,
  createJWSVerifier,
  createVerifier,
  importSecret,
  type Algorithm,
  type KeyResolver,
} from '../src/index.js';
import { HEADER_CACHE_SIZE, HeaderCache } from '../src/jws/header-cache.js';
import { expectJoseError } from './support/assert.js';
import { fixture } from './support/keys.js';
import { NOW_DATE, SECRET, SECRET_KEY, b64json, claims, forge } from './support/tokens.js';

const HS = { algorithms: ['HS256'] as Algorithm[], currentDate: NOW_DATE };
const KID_KEY = importSecret(SECRET, { alg: 'HS256', kid: 'a' });

describe('a cached header never lets a different header through', () => {
  const verifier = createVerifier(new KeySet([KID_KEY]), HS);
  const good = forge({ alg: 'HS256', typ: 'JWT', kid: 'a' }, claims());

  it('after a valid token, headers that differ in alg, kid, crit, b64 or typ are each judged on their own', () => {
    expect(verifier(good).payload.sub).toBe('user-1');
    for (const alg of ['HS384', 'none', 'NONE', 'RS256']) {
      expectJoseError(
        () => verifier(forge({ alg, typ: 'JWT', kid: 'a' }, claims())),
        'ERR_JOSE_ALG_NOT_ALLOWED',
      );
    }
    expectJoseError(
      () => verifier(forge({ alg: 'HS256', typ: 'JWT', kid: 'b' }, claims())),
      'ERR_JWKS_NO_MATCHING_KEY',
    );
    expectJoseError(
      () => verifier(forge({ alg: 'HS256', typ: 'JWT', kid: 'a', crit: ['exp'], exp: 1 }, claims())),
      'ERR_JWS_UNSUPPORTED',
    );
    expectJoseError(
      () => verifier(forge({ alg: 'HS256', typ: 'JWT', kid: 'a', b64: false }, claims())),
      'ERR_JWS_UNSUPPORTED',
    );
    expectJoseError(() => verifier(forge({ alg: 'HS256', typ: 7, kid: 'a' }, claims())), 'ERR_JWS_INVALID');
    expect(verifier(good).payload.sub).toBe('user-1');
  });

  it('a refused header is refused every time, not remembered as good', () => {
    const crit = forge({ alg: 'HS256', kid: 'a', crit: ['x'], x: 1 }, claims());
    for (let i = 0; i < 3; i++) expectJoseError(() => verifier(crit), 'ERR_JWS_UNSUPPORTED');
    expect(verifier(good).payload.sub).toBe('user-1');
    for (let i = 0; i < 3; i++) expectJoseError(() => verifier(crit), 'ERR_JWS_UNSUPPORTED');
  });

  it('the same cached header with another payload or signature still fails the signature check', () => {
    const [h, , s] = good.split('.') as [string, string, string];
    expectJoseError(
      () => verifier(`${h}.${b64json(claims({ sub: 'admin' }))}.${s}`),
      'ERR_JWS_SIGNATURE_INVALID',
    );
    const other = forge({ alg: 'HS256', typ: 'JWT', kid: 'a' }, claims(), randomBytes(32));
    expectJoseError(() => verifier(other), 'ERR_JWS_SIGNATURE_INVALID');
  });
});

describe('the key is chosen and bound to the algorithm on every token, cached header or not', () => {
  it('the resolver is asked once per token', () => {
    const select = vi.fn<KeyResolver['select']>(() => SECRET_KEY);
    const verifier = createVerifier({ select }, HS);
    const token = forge({ alg: 'HS256' }, claims());
    for (let i = 0; i < 5; i++) verifier(token);
    expect(select).toHaveBeenCalledTimes(5);
  });

  it('a resolver that later returns a key of another family is refused though the header is cached', () => {
    let key = SECRET_KEY;
    const verifier = createVerifier({ select: () => key }, HS);
    const token = forge({ alg: 'HS256' }, claims());
    expect(verifier(token).payload.sub).toBe('user-1');
    key = fixture('ES256').verifyingKey;
    expectJoseError(() => verifier(token), 'ERR_JOSE_KEY_MISMATCH');
    key = importSecret(randomBytes(32), { alg: 'HS256' });
    expectJoseError(() => verifier(token), 'ERR_JWS_SIGNATURE_INVALID');
  });

  it('the async form shares the cache and the checks', async () => {
    const verifier = createVerifier(new KeySet([KID_KEY]), HS);
    const good = forge({ alg: 'HS256', kid: 'a' }, claims());
    expect((await verifier.async(good)).payload.sub).toBe('user-1');
    await expect(verifier.async(forge({ alg: 'none', kid: 'a' }, claims()))).rejects.toMatchObject({
      code: 'ERR_JOSE_ALG_NOT_ALLOWED',
    });
    expect(verifier(good).payload.sub).toBe('user-1');
  });
});

describe('the header cache is bounded', () => {
  const allowed = new Set(['HS256']);

  it(`holds at most ${HEADER_CACHE_SIZE} headers by default, however many distinct ones arrive`, () => {
    const cache = new HeaderCache(allowed);
    for (let i = 0; i < HEADER_CACHE_SIZE * 5; i++) {
      expect(cache.get(b64json({ alg: 'HS256', kid: `k${i}` })).kid).toBe(`k${i}`);
      expect(cache.size).toBeLessThanOrEqual(HEADER_CACHE_SIZE);
    }
    expect(cache.size).toBeGreaterThan(0);
  });

  it('stores only headers that passed, and answers each segment with its own parse', () => {
    const cache = new HeaderCache(allowed, 4);
    const a = b64json({ alg: 'HS256', kid: 'a' });
    expectJoseError(() => cache.get(b64json({ alg: 'HS384' })), 'ERR_JOSE_ALG_NOT_ALLOWED');
    expect(cache.size).toBe(0);
    expect(cache.get(a).kid).toBe('a');
    expect(cache.get(b64json({ alg: 'HS256', kid: 'b' })).kid).toBe('b');
    expect(cache.get(a).kid).toBe('a');
    expect(cache.size).toBe(2);
  });
});

describe('the reused decode buffer never mixes tokens', () => {
  it('interleaved verifiers and payloads of different sizes each get their own claims', () => {
    const one = createVerifier(SECRET_KEY, HS);
    const two = createVerifier(SECRET_KEY, HS);
    const short = forge({ alg: 'HS256' }, claims({ sub: 's' }));
    const long = forge({ alg: 'HS256' }, claims({ sub: 'l', pad: 'x'.repeat(3000) }));
    const a = one(long).payload;
    const b = two(short).payload;
    const c = one(short).payload;
    expect([a.sub, b.sub, c.sub]).toEqual(['l', 's', 's']);
    expect(a.pad).toBe('x'.repeat(3000));
  });

  it('the payload bytes a JWS verifier returns stay intact after later verifications', () => {
    const verifyJWS = createJWSVerifier(SECRET_KEY, { algorithms: ['HS256'] });
    const first = verifyJWS(forge({ alg: 'HS256' }, { n: 1 })).payload;
    const copy = Buffer.from(first);
    verifyJWS(forge({ alg: 'HS256' }, { n: 2, more: 'y'.repeat(500) }));
    expect(first.equals(copy)).toBe(true);
  });

  it('a large RSA-sized input grows the buffer and still verifies smaller tokens after it', () => {
    const verifier = createVerifier(SECRET_KEY, { ...HS, maxTokenLength: 200_000 });
    const huge = forge({ alg: 'HS256' }, claims({ sub: 'h', pad: 'z'.repeat(100_000) }));
    expect(verifier(huge).payload.sub).toBe('h');
    expect(verifier(forge({ alg: 'HS256' }, claims())).payload.sub).toBe('user-1');
  });

  it('the signature is read from the new buffer after it grows, never through a view of the old one', () => {
    const verifier = createVerifier(SECRET_KEY, { ...HS, maxTokenLength: 1_000_000 });
    const small = forge({ alg: 'HS256' }, claims({ sub: 's' }));
    expect(verifier(small).payload.sub).toBe('s');
    // Each token is larger than any buffer before it, so each verify replaces the buffer.
    for (const size of [20_000, 80_000, 320_000]) {
      const big = forge({ alg: 'HS256' }, claims({ sub: `b${size}`, pad: 'q'.repeat(size) }));
      expect(verifier(big).payload.sub).toBe(`b${size}`);
      const wrong = `${big.slice(0, big.lastIndexOf('.'))}.${small.slice(small.lastIndexOf('.') + 1)}`;
      expectJoseError(() => verifier(wrong), 'ERR_JWS_SIGNATURE_INVALID');
    }
    expect(verifier(small).payload.sub).toBe('s');
    const tampered = `${small.slice(0, -2)}${small.endsWith('AA') ? 'AQ' : 'AA'}`;
    expectJoseError(() => verifier(tampered), 'ERR_JWS_SIGNATURE_INVALID');
  });
});
