/**
 * One test group per bullet of "The verifier" in /work/shared/SECURITY-NOTES.md, named after the bullet. Each test
 * fails if the mistake the bullet describes came back. `node:crypto` is wrapped (not replaced) so the tests can see
 * whether OpenSSL was reached and how HMAC tags are compared.
 */
import { Buffer } from 'node:buffer';
import * as nodeCrypto from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import {
  KeySet,
  createVerifier,
  decodeUnverified,
  generateKeyPair,
  generateSecret,
  importJWK,
  importSecret,
  sign,
  verify,
  type Algorithm,
  type Key,
  type KeyResolver,
} from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { fixture } from './support/keys.js';
import {
  NOW,
  NOW_DATE,
  SECRET,
  SECRET_KEY,
  b64json,
  claims,
  forge,
  forgeSegments,
} from './support/tokens.js';
import { rfc7515A1 } from './support/vectors.js';
import { keyPair } from '../../../test-support/key-pair.js';

vi.mock('node:crypto', async (importOriginal) => {
  const actual = await importOriginal<typeof nodeCrypto>();
  return {
    ...actual,
    default: actual,
    timingSafeEqual: vi.fn(actual.timingSafeEqual),
    verify: vi.fn(actual.verify),
  };
});

const timingSafeEqual = vi.mocked(nodeCrypto.timingSafeEqual);
const opensslVerify = vi.mocked(nodeCrypto.verify);

beforeEach(() => {
  timingSafeEqual.mockClear();
  opensslVerify.mockClear();
});
afterEach(() => vi.restoreAllMocks());

const HS = { algorithms: ['HS256'] as Algorithm[], currentDate: NOW_DATE };

/** A resolver that records whether a key lookup happened. */
function spyResolver(key: Key): { select: ReturnType<typeof vi.fn<KeyResolver['select']>> } {
  return { select: vi.fn<KeyResolver['select']>((alg, kid) => key.select(alg, kid)) };
}

describe('Algorithm comes from configuration, never from the token', () => {
  for (const [name, header] of [
    ['none', { alg: 'none' }],
    ['NoNe', { alg: 'NoNe' }],
    ['""', { alg: '' }],
    ['null', { alg: null }],
    ['missing', {}],
    ['a number', { alg: 1 }],
    ['an array', { alg: ['HS256'] }],
  ] as const) {
    it(`alg ${name} is rejected before any key lookup`, () => {
      const resolver = spyResolver(SECRET_KEY);
      expectJoseError(() => verify(forge(header, claims()), resolver, HS), 'ERR_JOSE_ALG_NOT_ALLOWED');
      expect(resolver.select).not.toHaveBeenCalled();
    });
  }

  it('the allow-list match is exact and case-sensitive', () => {
    expectJoseError(
      () => verify(forge({ alg: 'hs256' }, claims()), SECRET_KEY, HS),
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
    expectJoseError(
      () => verify(forge({ alg: 'HS384' }, claims()), SECRET_KEY, HS),
      'ERR_JOSE_ALG_NOT_ALLOWED',
    );
  });

  it('an RSA public key is bound to RSA: an HS256 token HMAC-ed with its PEM never verifies (CVE-2015-9235)', () => {
    const rsa = fixture('RS256');
    for (const secret of [
      rsa.publicPem!,
      ` ${rsa.publicPem!}`,
      `x${rsa.publicPem!}`,
      JSON.stringify(rsa.verifyingKey.toJWK()),
    ]) {
      const token = forge({ alg: 'HS256' }, claims(), Buffer.from(secret));
      expectJoseError(
        () => verify(token, rsa.verifyingKey, { algorithms: ['HS256', 'RS256'], currentDate: NOW_DATE }),
        'ERR_JOSE_KEY_MISMATCH',
      );
    }
  });

  it('a JWK without "alg" is bound to its own family, never to the header alg (hono CVE-2026-22817/22818)', () => {
    const jwk = fixture('ES256').publicKeyObject!.export({ format: 'jwk' });
    const key = importJWK(jwk);
    expect([...key.algorithms]).toEqual(['ES256']);
    const token = forge({ alg: 'HS256' }, claims(), Buffer.from(JSON.stringify(jwk)));
    expectJoseError(
      () => verify(token, key, { algorithms: ['HS256', 'ES256'], currentDate: NOW_DATE }),
      'ERR_JOSE_KEY_MISMATCH',
    );
  });
});

describe('PS256/384/512: pass saltLength RSA_PSS_SALTLEN_DIGEST to crypto.verify', () => {
  it('a PS256 signature with salt length 0 is rejected', () => {
    const rsa = fixture('PS256');
    const input = `${b64json({ alg: 'PS256' })}.${b64json(claims())}`;
    const signature = nodeCrypto.sign('sha256', Buffer.from(input), {
      key: rsa.privateKeyObject!,
      padding: nodeCrypto.constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 0,
    });
    expectJoseError(
      () =>
        verify(`${input}.${signature.toString('base64url')}`, rsa.verifyingKey, {
          algorithms: ['PS256'],
          currentDate: NOW_DATE,
        }),
      'ERR_JWS_SIGNATURE_INVALID',
    );
    const [, , keyArg] = opensslVerify.mock.calls.at(-1)!;
    expect(keyArg).toMatchObject({ saltLength: nodeCrypto.constants.RSA_PSS_SALTLEN_DIGEST });
  });
});

describe('ECDSA signatures are exactly 2 × the curve size in bytes', () => {
  for (const [alg, size] of [
    ['ES256', 64],
    ['ES384', 96],
    ['ES512', 132],
  ] as const) {
    it(`${alg}: other lengths are rejected before OpenSSL sees them; r = s = 0 is rejected by OpenSSL`, () => {
      const f = fixture(alg);
      const token = sign(claims(), f.signingKey, { currentDate: NOW_DATE });
      const input = token.slice(0, token.lastIndexOf('.'));
      const run = (sig: Uint8Array) =>
        verify(`${input}.${Buffer.from(sig).toString('base64url')}`, f.verifyingKey, {
          algorithms: [alg],
          currentDate: NOW_DATE,
        });
      const der = nodeCrypto.sign(`sha${alg.slice(2)}`, Buffer.from(input), {
        key: f.privateKeyObject!,
        dsaEncoding: 'der',
      });
      for (const sig of [der, Buffer.alloc(size - 1), Buffer.alloc(size + 1), Buffer.alloc(size * 2)]) {
        opensslVerify.mockClear();
        expectJoseError(() => run(sig), 'ERR_JWS_SIGNATURE_INVALID', { reason: 'length' });
        expect(opensslVerify).not.toHaveBeenCalled();
      }
      expectJoseError(() => run(Buffer.alloc(size)), 'ERR_JWS_SIGNATURE_INVALID');
      expect(opensslVerify.mock.calls.at(-1)![2]).toMatchObject({ dsaEncoding: 'ieee-p1363' });
    });
  }
});

describe('base64url must be canonical', () => {
  it('padding, +/, whitespace, "?" and non-zero trailing bits are all rejected although Buffer decodes them to the same bytes', () => {
    // RFC 7515 A.1: a fixed token whose signature holds both "-" and "_", so the "+/" spelling always differs.
    const { token, key, options } = rfc7515A1();
    const [h, p, s] = token.split('.') as [string, string, string];
    const lastBitsSet = `${s.slice(0, -1)}${String.fromCharCode(s.charCodeAt(s.length - 1) + 1)}`;
    expect(Buffer.from(lastBitsSet, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    const variants = [
      `${h}.${p}.${lastBitsSet}`,
      `${h}=.${p}.${s}`,
      `${h}.${p}.${s}=`,
      ` ${h}.${p}.${s}`,
      `${h}.${p}?.${s}`,
      `${h}.${p}.${s.replace(/-/g, '+').replace(/_/g, '/')}`,
    ];
    expect(variants).not.toContain(token);
    for (const variant of variants) expectJoseError(() => verify(variant, key, options), 'ERR_JWS_INVALID');
    expect(verify(token, key, options).payload.iss).toBe('joe');
  });
});

describe('Header and payload must be JSON objects', () => {
  it('an array payload cannot skip the claim checks (fast-jwt)', () => {
    expectJoseError(
      () => verify(forge({ alg: 'HS256' }, [claims({ exp: 1 })]), SECRET_KEY, HS),
      'ERR_JWT_INVALID',
    );
    for (const payload of ['"x"', '1', 'null', 'true']) {
      expectJoseError(() => verify(forge({ alg: 'HS256' }, payload), SECRET_KEY, HS), 'ERR_JWT_INVALID');
    }
    for (const header of ['[{"alg":"HS256"}]', '"HS256"', 'null']) {
      expectJoseError(() => verify(forge(header, claims()), SECRET_KEY, HS), 'ERR_JWS_INVALID');
    }
  });

  it('duplicate member names: the verifier and decodeUnverified read the same value', () => {
    const token = forge({ alg: 'HS256' }, `{"sub":"alice","exp":${NOW + 60},"sub":"admin"}`);
    expect(verify(token, SECRET_KEY, HS).payload.sub).toBe(decodeUnverified(token).payload.sub);
  });
});

describe('Never merge claims with Object.assign/spread into plain objects for lookups', () => {
  it('a __proto__ claim stays an own property and pollutes nothing', () => {
    const token = forge(
      { alg: 'HS256' },
      `{"sub":"u","exp":${NOW + 60},"__proto__":{"isAdmin":true,"exp":1}}`,
    );
    const { payload } = verify(token, SECRET_KEY, HS);
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect((payload as Record<string, unknown>).isAdmin).toBeUndefined();
    expect(payload.exp).toBe(NOW + 60);
    expect(({} as Record<string, unknown>).isAdmin).toBeUndefined();
  });

  it('a kid of __proto__, constructor or toString finds nothing in a KeySet', () => {
    const key = generateKeyPair('ES256', { kid: 'k' });
    const set = new KeySet([key.publicKey()]);
    for (const kid of ['__proto__', 'constructor', 'toString']) {
      const token = sign(claims(), key, { kid, currentDate: NOW_DATE });
      expectJoseError(
        () => verify(token, set, { algorithms: ['ES256'], currentDate: NOW_DATE }),
        'ERR_JWKS_NO_MATCHING_KEY',
      );
    }
  });
});

describe('NumericDate claims are finite numbers', () => {
  const run = (payload: string) => verify(forge({ alg: 'HS256' }, payload), SECRET_KEY, HS);
  it('"9999999999" and 1e400 are rejected; exp is required; exp <= now - tolerance is expired; future nbf/iat rejected', () => {
    expectJoseError(() => run('{"exp":"9999999999"}'), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'exp',
      reason: 'type',
    });
    expectJoseError(() => run('{"exp":1e400}'), 'ERR_JWT_CLAIM_INVALID', { claim: 'exp', reason: 'type' });
    expectJoseError(() => run('{"sub":"u"}'), 'ERR_JWT_CLAIM_INVALID', { claim: 'exp', reason: 'missing' });
    expectJoseError(() => run(`{"exp":${NOW}}`), 'ERR_JWT_EXPIRED');
    expectJoseError(
      () => verify(forge({ alg: 'HS256' }, { exp: NOW - 5 }), SECRET_KEY, { ...HS, clockTolerance: 5 }),
      'ERR_JWT_EXPIRED',
    );
    expectJoseError(() => run(`{"exp":${NOW + 60},"nbf":${NOW + 1}}`), 'ERR_JWT_NOT_YET_VALID');
    expectJoseError(() => run(`{"exp":${NOW + 60},"iat":${NOW + 1}}`), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iat',
    });
  });
});

describe('aud is a string or an array of strings, compared exactly; iss is one string, compared exactly', () => {
  const audience = 'https://api.example.com';
  const issuer = 'https://auth.example.com';
  const run = (extra: Record<string, unknown>) =>
    verify(forge({ alg: 'HS256' }, claims(extra)), SECRET_KEY, { ...HS, audience, issuer });
  it('substring, prefix and suffix tricks and non-string arrays fail; an iss array fails (fast-jwt CVE-2025-30144)', () => {
    expectJoseError(
      () => run({ iss: issuer, aud: 'https://api.example.com.evil.net' }),
      'ERR_JWT_CLAIM_INVALID',
      { claim: 'aud' },
    );
    expectJoseError(() => run({ iss: issuer, aud: 'https://api.example.co' }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'aud',
    });
    expectJoseError(() => run({ iss: issuer, aud: [audience, 1] }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'aud',
      reason: 'type',
    });
    expectJoseError(() => run({ iss: [issuer], aud: audience }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iss',
      reason: 'type',
    });
    expectJoseError(() => run({ iss: `${issuer}.evil.net`, aud: audience }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'iss',
    });
    expect(run({ iss: issuer, aud: ['x', audience] }).payload.iss).toBe(issuer);
  });
});

describe('Explicit typing', () => {
  it('each kind of token has its own typ, so an access token cannot pass as another kind (RFC 8725 §3.11)', () => {
    const key = generateSecret('HS256');
    const base = { algorithms: ['HS256'] as Algorithm[], currentDate: NOW_DATE };
    const access = sign({ sub: 'u' }, key, { typ: 'at+jwt', expiresIn: 60, currentDate: NOW_DATE });
    const plain = sign({ sub: 'u' }, key, { expiresIn: 60, currentDate: NOW_DATE });
    expect(verify(access, key, { ...base, typ: 'at+jwt' }).header.typ).toBe('at+jwt');
    expect(
      verify(forge({ alg: 'HS256', typ: 'application/at+jwt' }, claims()), SECRET_KEY, {
        ...HS,
        typ: 'at+jwt',
      }).payload.sub,
    ).toBe('user-1');
    expectJoseError(() => verify(access, key, { ...base, typ: 'dpop+jwt' }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'typ',
    });
    expectJoseError(() => verify(plain, key, { ...base, typ: 'at+jwt' }), 'ERR_JWT_CLAIM_INVALID', {
      claim: 'typ',
    });
    expectJoseError(
      () => verify(access, key, { ...base, typ: 'at+jwt', requiredClaims: ['jti'] }),
      'ERR_JWT_CLAIM_INVALID',
      { claim: 'jti' },
    );
  });
});

describe('crit: unknown names rejected; empty, non-array or absent names rejected; b64: false rejected', () => {
  it('every case, with a valid HMAC', () => {
    const run = (header: Record<string, unknown>) =>
      verify(forge({ alg: 'HS256', ...header }, claims()), SECRET_KEY, HS);
    expectJoseError(() => run({ crit: ['urn:x'], 'urn:x': 1 }), 'ERR_JWS_UNSUPPORTED');
    expectJoseError(() => run({ crit: [] }), 'ERR_JWS_INVALID');
    expectJoseError(() => run({ crit: 'urn:x', 'urn:x': 1 }), 'ERR_JWS_INVALID');
    expectJoseError(() => run({ crit: ['urn:x'] }), 'ERR_JWS_INVALID');
    expectJoseError(() => run({ b64: false }), 'ERR_JWS_UNSUPPORTED');
    expectJoseError(() => run({ b64: false, crit: ['b64'] }), 'ERR_JWS_UNSUPPORTED');
  });
});

describe('jku, x5u, x5c, jwk in a header are never key sources, and never cause a network request', () => {
  it('an attacker-signed token naming its own key is refused, and nothing is fetched (CVE-2018-0114)', () => {
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const attacker = keyPair({ type: 'ec', namedCurve: 'P-256' });
    const header = b64json({
      alg: 'ES256',
      jwk: attacker.publicKey.export({ format: 'jwk' }),
      jku: 'http://127.0.0.1:9/jwks',
      x5u: 'http://127.0.0.1:9/cert',
      x5c: ['MIIB'],
    });
    const input = `${header}.${b64json(claims())}`;
    const sig = nodeCrypto.sign('sha256', Buffer.from(input), {
      key: attacker.privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    expectJoseError(
      () =>
        verify(`${input}.${sig.toString('base64url')}`, fixture('ES256').verifyingKey, {
          algorithms: ['ES256'],
          currentDate: NOW_DATE,
        }),
      'ERR_JWS_SIGNATURE_INVALID',
    );
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});

describe('kid is an opaque string looked up in a Map', () => {
  it('non-string and over-long kids are rejected before any key lookup', () => {
    for (const kid of [1, null, ['a'], { a: 1 }, 'k'.repeat(257), 'k'.repeat(10_000)]) {
      const resolver = spyResolver(SECRET_KEY);
      const error = expectJoseError(
        () => verify(forge({ alg: 'HS256', kid }, claims()), resolver, { ...HS, maxTokenLength: 100_000 }),
        'ERR_JWS_INVALID',
      );
      expect(error.claim).toBe('kid');
      expect(resolver.select).not.toHaveBeenCalled();
    }
  });

  it('path-, query- and shell-looking kids are plain strings that find nothing (node-jws CVE-2025-65945)', () => {
    const set = new KeySet([importSecret(SECRET, { kid: 'real' })]);
    for (const kid of ['../real', 'real/../real', "real' --", '$(real)', 'real\n', 'REAL']) {
      expectJoseError(
        () => verify(forge({ alg: 'HS256', kid }, claims()), set, HS),
        'ERR_JWKS_NO_MATCHING_KEY',
      );
    }
    expect(verify(forge({ alg: 'HS256', kid: 'real' }, claims()), set, HS).key.kid).toBe('real');
  });
});

describe('Size limits come first', () => {
  it('an over-limit token is rejected before any base64, JSON or key work', () => {
    const parse = vi.spyOn(JSON, 'parse');
    const resolver = spyResolver(SECRET_KEY);
    const big = forge({ alg: 'HS256' }, claims({ pad: 'x'.repeat(9000) }));
    expectJoseError(() => verify(big, resolver, HS), 'ERR_JWS_TOO_LARGE');
    expect(parse).not.toHaveBeenCalled();
    expect(resolver.select).not.toHaveBeenCalled();
  });
});

// "A verification cache is keyed on the full token … never outlives exp or a revocation": that cache belongs to
// @jot/verify (not written yet) and is tested there. @jot/jose only caches *parsed headers* per verifier, keyed on
// the full header segment; the test below pins that it never caches a verification outcome.
describe('A verification cache is keyed on the full token (header cache only here; the real cache is @jot/verify)', () => {
  it('a header seen in a valid token does not let a token with the same header but another payload or signature pass', () => {
    const verifier = createVerifier(SECRET_KEY, HS);
    const good = forge({ alg: 'HS256' }, claims());
    const [h, p, s] = good.split('.') as [string, string, string];
    expect(verifier(good).payload.sub).toBe('user-1');
    expectJoseError(
      () => verifier(`${h}.${b64json(claims({ sub: 'admin' }))}.${s}`),
      'ERR_JWS_SIGNATURE_INVALID',
    );
    expectJoseError(() => verifier(forgeSegments(h, p, Buffer.alloc(32, 1))), 'ERR_JWS_SIGNATURE_INVALID');
    expectJoseError(() => verifier(good, { currentDate: new Date((NOW + 3600) * 1000) }), 'ERR_JWT_EXPIRED');
  });
});

describe('HMAC comparison is constant time', () => {
  it('tags are compared with crypto.timingSafeEqual on equal-length buffers, for good and bad tags alike', () => {
    const good = forge({ alg: 'HS256' }, claims());
    expect(verify(good, SECRET_KEY, HS).payload.sub).toBe('user-1');
    expect(timingSafeEqual).toHaveBeenCalledTimes(1);
    const bad = forgeSegments(...(good.split('.').slice(0, 2) as [string, string]), Buffer.alloc(32, 7));
    expectJoseError(() => verify(bad, SECRET_KEY, HS), 'ERR_JWS_SIGNATURE_INVALID');
    expect(timingSafeEqual).toHaveBeenCalledTimes(2);
    for (const [a, b] of timingSafeEqual.mock.calls) expect((a as Buffer).length).toBe((b as Buffer).length);
  });
});

describe('HMAC secrets are ≥ 32 random bytes', () => {
  it('shorter secrets and passwords are refused; generated secrets are ≥ 32 random bytes', () => {
    expectJoseError(() => importSecret(nodeCrypto.randomBytes(31)), 'ERR_KEY_INVALID', {
      reason: 'too_short',
    });
    expectJoseError(() => importSecret('hunter2', { encoding: 'utf8' }), 'ERR_KEY_INVALID', {
      reason: 'too_short',
    });
    const a = generateSecret('HS256').toJWK({ includePrivate: true }).k!;
    const b = generateSecret('HS256').toJWK({ includePrivate: true }).k!;
    expect(Buffer.from(a, 'base64url').length).toBeGreaterThanOrEqual(32);
    expect(a).not.toBe(b);
  });
});
