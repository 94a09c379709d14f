/**
 * Published vectors: RFC 7515 Appendix A, RFC 7520 §3 and §4, RFC 8037 A.4, and RFC 7797 as a negative case.
 * Deterministic examples must reproduce byte for byte through `signEncoded`, which signs the segments as received
 * (the RFC 7515 headers contain CRLF whitespace that re-serialising would lose).
 */
import { Buffer } from 'node:buffer';
import { createHmac } from 'node:crypto';

import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';

import { importJWK, signEncoded, verify, verifyJWS, type Algorithm } from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { b64json } from './support/tokens.js';
import { loadVector, type AppendixA, type CookbookSignature } from './support/vectors.js';

const appendixA = loadVector<AppendixA>('rfc7515-appendix-a.json');
/** Before the examples' `exp` of 1300819380 (2011-03-22). */
const BEFORE_EXP = new Date(1_300_819_000 * 1000);

function split(token: string): [string, string, string] {
  const [h, p, s] = token.split('.');
  return [h!, p!, s!];
}

describe('RFC 7515 Appendix A', () => {
  for (const vector of appendixA.vectors) {
    it(`${vector.id} (${vector.alg}) verifies with its key`, () => {
      const key = importJWK(vector.key);
      const { payload } = verifyJWS(vector.token, key, { algorithms: [vector.alg as Algorithm] });
      expect(payload.toString('utf8')).toBe(vector.payload);
    });
  }

  it('A.1 and A.3 verify as JWTs at a date before their exp, and are expired now', () => {
    for (const id of ['RFC7515-A.1', 'RFC7515-A.2', 'RFC7515-A.3']) {
      const vector = appendixA.vectors.find((v) => v.id === id)!;
      const key = importJWK(vector.key);
      const options = { algorithms: [vector.alg as Algorithm] };
      const { payload } = verify(vector.token, key, { ...options, currentDate: BEFORE_EXP });
      expect(payload).toEqual({ iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true });
      expectJoseError(() => verify(vector.token, key, options), 'ERR_JWT_EXPIRED', { claim: 'exp' });
    }
  });

  it('A.1 (HS256) reproduces byte for byte, CRLF header whitespace included', () => {
    const vector = appendixA.vectors.find((v) => v.id === 'RFC7515-A.1')!;
    const [h, p] = split(vector.token);
    expect(signEncoded(h, p, importJWK(vector.key))).toBe(vector.token);
  });

  it('A.2 (RS256): the stored key is public only, so it verifies but cannot sign', () => {
    // The byte-for-byte RS256 reproduction is RFC 7520 §4.1 below, whose vector includes the private key.
    const vector = appendixA.vectors.find((v) => v.id === 'RFC7515-A.2')!;
    const [h, p] = split(vector.token);
    expect(() => signEncoded(h, p, importJWK(vector.key))).toThrow(TypeError);
  });

  it('A.3/A.4 (ECDSA, randomised): a fresh signature over the same input differs but verifies', () => {
    for (const id of ['RFC7515-A.3', 'RFC7515-A.4']) {
      const vector = appendixA.vectors.find((v) => v.id === id)!;
      const key = importJWK(vector.key);
      const [h, p] = split(vector.token);
      const fresh = signEncoded(h, p, key);
      expect(fresh).not.toBe(vector.token);
      expect(verifyJWS(fresh, key, { algorithms: [vector.alg as Algorithm] }).payload.toString()).toBe(
        vector.payload,
      );
    }
  });

  it('A.5 (alg "none") is rejected with every key and any allow-list', () => {
    for (const vector of appendixA.vectors) {
      expectJoseError(
        () =>
          verify(appendixA.unsecured_A5, importJWK(vector.key), { algorithms: [vector.alg as Algorithm] }),
        'ERR_JOSE_ALG_NOT_ALLOWED',
        { claim: 'alg', reason: 'none' },
      );
    }
  });
});

const cookbook = [
  '4_1.rsa_v15_signature.json',
  '4_2.rsa-pss_signature.json',
  '4_3.ecdsa_signature.json',
  '4_4.hmac-sha2_integrity_protection.json',
].map((file) => [file, loadVector<CookbookSignature>(`rfc7520/${file}`)] as const);

describe('RFC 7520 §4 (JWS over a non-JSON payload)', () => {
  for (const [file, vector] of cookbook) {
    it(`${file}: ${vector.title} (${vector.input.alg}) verifies to the input payload`, () => {
      const key = importJWK(vector.input.key);
      const result = verifyJWS(vector.output.compact!, key, { algorithms: [vector.input.alg as Algorithm] });
      expect(result.payload.toString('utf8')).toBe(vector.input.payload);
      expect(result.header.kid).toBe(vector.input.key.kid);
    });

    it(`${file}: signing ${vector.reproducible ? 'reproduces the token byte for byte' : 'gives a verifying token'}`, () => {
      const key = importJWK(vector.input.key);
      const [h, p] = split(vector.output.compact!);
      expect(h).toBe(vector.signing.protected_b64u);
      const token = signEncoded(h, p, key);
      if (vector.reproducible) expect(token).toBe(vector.output.compact);
      else expect(split(token)[2]).not.toBe(vector.signing.sig);
      expect(verifyJWS(token, key, { algorithms: [vector.input.alg as Algorithm] }).payload.toString()).toBe(
        vector.input.payload,
      );
    });
  }
});

describe('RFC 7520 §3 keys', () => {
  const files = [
    '3_1.ec_public_key.json',
    '3_2.ec_private_key.json',
    '3_3.rsa_public_key.json',
    '3_4.rsa_private_key.json',
    '3_5.symmetric_key_mac_computation.json',
  ];
  for (const file of files) {
    it(`${file} round-trips through import/export and its thumbprint matches jose`, async () => {
      const jwk = loadVector<Record<string, string>>(`rfc7520/${file}`);
      const key = importJWK(jwk);
      expect(key.kid).toBe(jwk.kid);
      const exported = key.toJWK({ includePrivate: true });
      for (const [name, value] of Object.entries(jwk)) expect(exported[name]).toBe(value);
      const again = importJWK(exported);
      expect(again.toJWK({ includePrivate: true })).toEqual(exported);
      expect(key.thumbprint()).toBe(await calculateJwkThumbprint(jwk as never, 'sha256'));
      expect(key.thumbprint('sha512')).toBe(await calculateJwkThumbprint(jwk as never, 'sha512'));
      if (key.type === 'private') {
        const publicJwk = key.toJWK();
        expect(publicJwk.d).toBeUndefined();
        expect(key.publicKey().thumbprint()).toBe(key.thumbprint());
      }
    });
  }
});

describe('RFC 8037 Appendix A.4 (Ed25519)', () => {
  const vector = loadVector<CookbookSignature>('rfc8037-ed25519-jws.json');

  it('reproduces the signature byte for byte and verifies', () => {
    const key = importJWK(vector.input.key);
    const [h, p] = split(vector.output.compact!);
    expect(signEncoded(h, p, key)).toBe(vector.output.compact);
    const { payload } = verifyJWS(vector.output.compact!, key.publicKey(), { algorithms: ['EdDSA'] });
    expect(payload.toString()).toBe(vector.input.payload);
  });

  it('the thumbprint matches RFC 8037 A.3', () => {
    expect(importJWK(vector.input.key).thumbprint()).toBe('kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k');
  });
});

describe('RFC 7797 (b64: false)', () => {
  const vector = loadVector<CookbookSignature>('rfc7797-b64-false.json');
  const key = importJWK(vector.input.key);
  const secret = Buffer.from(vector.input.key.k!, 'base64url');

  it('the vector is genuine: its signature is a valid HMAC with the given key', () => {
    const tag = createHmac('sha256', secret).update(vector.signing['sig-input']).digest('base64url');
    expect(tag).toBe(vector.signing.sig);
  });

  it('is rejected with ERR_JWS_UNSUPPORTED even with the right key (detached compact form, RFC 7797 §5.2)', () => {
    const token = `${vector.signing.protected_b64u}..${vector.signing.sig}`;
    expectJoseError(() => verifyJWS(token, key, { algorithms: ['HS256'] }), 'ERR_JWS_UNSUPPORTED', {
      claim: 'b64',
    });
  });

  it('is rejected with ERR_JWS_UNSUPPORTED when the header also has crit: ["b64"] and the HMAC is valid', () => {
    // The payload "$.02" holds a ".", so the inline compact form is not three parts; use a dot-free payload.
    const header = b64json(vector.signing.protected);
    const input = `${header}.$02`;
    const token = `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
    expectJoseError(() => verifyJWS(token, key, { algorithms: ['HS256'] }), 'ERR_JWS_UNSUPPORTED');
  });

  it('the inline form with the vector payload "$.02" is not a three-part token: ERR_JWS_INVALID', () => {
    const token = `${vector.signing['sig-input']}.${vector.signing.sig}`;
    expectJoseError(() => verifyJWS(token, key, { algorithms: ['HS256'] }), 'ERR_JWS_INVALID');
  });
});
