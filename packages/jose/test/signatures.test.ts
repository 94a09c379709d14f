/**
 * The signature itself: exact lengths (ECDSA P1363 is 2 × the curve size, RSA the modulus size, HMAC the hash size),
 * ECDSA r = s = 0 (psychic signatures, CVE-2022-21449), DER-encoded ECDSA, truncated and extended signatures, wrong
 * keys, and RSASSA-PSS with a salt length other than the digest length.
 */
import { Buffer } from 'node:buffer';
import { constants, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { generateKeyPair, generateSecret, sign, verify, type Algorithm } from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { ALL_ALGS, fixture } from './support/keys.js';
import { NOW_DATE, b64json, claims } from './support/tokens.js';

const HASH = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' } as const;
const EC_LENGTH = { ES256: 64, ES384: 96, ES512: 132 } as const;

function tokenFor(alg: Algorithm): string {
  return sign(claims(), fixture(alg).signingKey, { alg, currentDate: NOW_DATE });
}

function withSignature(token: string, signature: Uint8Array): string {
  return `${token.slice(0, token.lastIndexOf('.'))}.${Buffer.from(signature).toString('base64url')}`;
}

function check(alg: Algorithm, token: string) {
  return verify(token, fixture(alg).verifyingKey, { algorithms: [alg], currentDate: NOW_DATE });
}

describe('every algorithm: only the exact signature verifies', () => {
  for (const alg of ALL_ALGS) {
    const token = tokenFor(alg);
    const signature = Buffer.from(token.slice(token.lastIndexOf('.') + 1), 'base64url');

    it(`${alg}: the control token verifies`, () => expect(check(alg, token).payload.sub).toBe('user-1'));

    it(`${alg}: truncated by one byte → ERR_JWS_SIGNATURE_INVALID (length)`, () =>
      expectJoseError(
        () => check(alg, withSignature(token, signature.subarray(0, -1))),
        'ERR_JWS_SIGNATURE_INVALID',
        {
          reason: 'length',
        },
      ));

    it(`${alg}: extended by a zero byte (front or back) → ERR_JWS_SIGNATURE_INVALID (length)`, () => {
      const zero = Buffer.alloc(1);
      for (const longer of [Buffer.concat([signature, zero]), Buffer.concat([zero, signature])]) {
        expectJoseError(() => check(alg, withSignature(token, longer)), 'ERR_JWS_SIGNATURE_INVALID', {
          reason: 'length',
        });
      }
    });

    it(`${alg}: empty signature → ERR_JWS_SIGNATURE_INVALID`, () =>
      expectJoseError(() => check(alg, withSignature(token, Buffer.alloc(0))), 'ERR_JWS_SIGNATURE_INVALID'));

    it(`${alg}: one flipped bit → ERR_JWS_SIGNATURE_INVALID`, () => {
      for (const index of [0, signature.length >> 1, signature.length - 1]) {
        const flipped = Buffer.from(signature);
        flipped[index]! ^= 1;
        expectJoseError(() => check(alg, withSignature(token, flipped)), 'ERR_JWS_SIGNATURE_INVALID');
      }
    });

    it(`${alg}: all-zero signature of the right length → ERR_JWS_SIGNATURE_INVALID`, () =>
      expectJoseError(
        () => check(alg, withSignature(token, Buffer.alloc(signature.length))),
        'ERR_JWS_SIGNATURE_INVALID',
      ));

    it(`${alg}: a payload change under the same signature → ERR_JWS_SIGNATURE_INVALID`, () => {
      const [h, , s] = token.split('.');
      const forged = `${h}.${b64json(claims({ sub: 'admin' }))}.${s}`;
      expectJoseError(() => check(alg, forged), 'ERR_JWS_SIGNATURE_INVALID');
    });

    it(`${alg}: signed by another key of the same algorithm → ERR_JWS_SIGNATURE_INVALID`, () => {
      const other = alg.startsWith('HS') ? generateSecret(alg as 'HS256') : generateKeyPair(alg);
      expectJoseError(
        () => check(alg, sign(claims(), other, { alg, currentDate: NOW_DATE })),
        'ERR_JWS_SIGNATURE_INVALID',
      );
    });
  }
});

describe('ECDSA', () => {
  for (const alg of ['ES256', 'ES384', 'ES512'] as const) {
    const token = tokenFor(alg);
    it(`${alg}: r = s = 0 (${EC_LENGTH[alg]} zero bytes, CVE-2022-21449) → ERR_JWS_SIGNATURE_INVALID`, () => {
      const zero = withSignature(token, Buffer.alloc(EC_LENGTH[alg]));
      const error = expectJoseError(() => check(alg, zero), 'ERR_JWS_SIGNATURE_INVALID');
      expect(error.reason).toBeUndefined(); // reached the real check, and the real check refused it
    });

    it(`${alg}: a DER-encoded signature over the right input → ERR_JWS_SIGNATURE_INVALID`, () => {
      const input = token.slice(0, token.lastIndexOf('.'));
      const der = cryptoSign(HASH[alg], Buffer.from(input), {
        key: fixture(alg).privateKeyObject!,
        dsaEncoding: 'der',
      });
      expect(cryptoVerify(HASH[alg], Buffer.from(input), fixture(alg).publicKeyObject!, der)).toBe(true);
      expectJoseError(() => check(alg, withSignature(token, der)), 'ERR_JWS_SIGNATURE_INVALID');
    });

    it(`${alg}: r and s equal to the all-ones value → ERR_JWS_SIGNATURE_INVALID`, () => {
      expectJoseError(
        () => check(alg, withSignature(token, Buffer.alloc(EC_LENGTH[alg], 0xff))),
        'ERR_JWS_SIGNATURE_INVALID',
      );
    });
  }
});

describe('RSASSA-PSS salt length is the digest length', () => {
  const rsa = fixture('PS256');
  const cases: [Algorithm, 'sha256' | 'sha384' | 'sha512', number, string][] = [
    ['PS256', 'sha256', 0, 'salt length 0'],
    ['PS256', 'sha256', 20, 'salt length 20'],
    ['PS256', 'sha256', constants.RSA_PSS_SALTLEN_MAX_SIGN, 'maximal salt'],
    ['PS384', 'sha384', 32, 'salt length 32'],
    ['PS512', 'sha512', 0, 'salt length 0'],
  ];
  for (const [alg, hash, saltLength, name] of cases) {
    it(`${alg} signed with ${name} → ERR_JWS_SIGNATURE_INVALID (Node's default would accept it)`, () => {
      const input = `${b64json({ alg, typ: 'JWT' })}.${b64json(claims())}`;
      const data = Buffer.from(input);
      const signature = cryptoSign(hash, data, {
        key: rsa.privateKeyObject!,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength,
      });
      // The trap: auto-detected salt length accepts this signature.
      expect(
        cryptoVerify(
          hash,
          data,
          { key: rsa.publicKeyObject!, padding: constants.RSA_PKCS1_PSS_PADDING },
          signature,
        ),
      ).toBe(true);
      expectJoseError(
        () => check(alg, `${input}.${signature.toString('base64url')}`),
        'ERR_JWS_SIGNATURE_INVALID',
      );
    });
  }

  it('PS256 signed with the digest-length salt verifies', () => {
    const input = `${b64json({ alg: 'PS256' })}.${b64json(claims())}`;
    const signature = cryptoSign('sha256', Buffer.from(input), {
      key: rsa.privateKeyObject!,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: 32,
    });
    expect(check('PS256', `${input}.${signature.toString('base64url')}`).payload.sub).toBe('user-1');
  });

  it('an RS256 (PKCS #1 v1.5) signature is not a PS256 signature, and vice versa', () => {
    const rs = tokenFor('RS256').split('.')[2]!;
    const ps = tokenFor('PS256').split('.')[2]!;
    const psInput = `${b64json({ alg: 'PS256', typ: 'JWT' })}.${b64json(claims())}`;
    const rsInput = `${b64json({ alg: 'RS256', typ: 'JWT' })}.${b64json(claims())}`;
    expectJoseError(() => check('PS256', `${psInput}.${rs}`), 'ERR_JWS_SIGNATURE_INVALID');
    expectJoseError(() => check('RS256', `${rsInput}.${ps}`), 'ERR_JWS_SIGNATURE_INVALID');
  });
});
