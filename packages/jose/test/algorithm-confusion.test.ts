/**
 * Algorithm confusion: an HS256 token whose HMAC secret is the text of a public key (PEM with whitespace, CRLF or a
 * prefix, the JWK JSON, the DER bytes …) must never verify against that public key, whatever the allow-list says.
 * Keys are bound to their family at import (jsonwebtoken CVE-2015-9235, fast-jwt CVE-2023-48223, hono
 * CVE-2026-22817/22818).
 */
import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import {
  Key,
  KeySet,
  createJWSVerifier,
  importJWK,
  importPEM,
  importSecret,
  sign,
  verify,
  type Algorithm,
  type KeyResolver,
} from '../src/index.js';
import { expectJoseError, expectJoseErrorOneOf } from './support/assert.js';
import { ASYMMETRIC_ALGS, fixture } from './support/keys.js';
import { NOW_DATE, SECRET, claims, forge } from './support/tokens.js';

/** Every spelling of a public key an attacker might feed to a confused HMAC verifier. */
function secretSpellings(alg: Algorithm): [string, Uint8Array][] {
  const f = fixture(alg);
  const pem = f.publicPem!;
  const jwk = f.verifyingKey.toJWK();
  const rawJwk = f.publicKeyObject!.export({ format: 'jwk' });
  const der = f.publicKeyObject!.export({ format: 'der', type: 'spki' });
  const body = pem
    .split('\n')
    .filter((line) => line && !line.startsWith('-----'))
    .join('');
  const spellings: [string, string | Uint8Array][] = [
    ['the SPKI PEM', pem],
    ['the PEM without its final newline', pem.trimEnd()],
    ['the PEM with a leading space', ` ${pem}`],
    ['the PEM with a leading newline', `\n${pem}`],
    ['the PEM with leading tabs and spaces', `\t  ${pem}`],
    ['the PEM with CRLF line ends', pem.replace(/\n/g, '\r\n')],
    ['the PEM with a prefix', `key: ${pem}`],
    ['the PEM body without armour', body],
    ['the DER bytes', der],
    ['the JWK JSON text', JSON.stringify(jwk)],
    ['the JWK JSON text without kid/alg/use', JSON.stringify(rawJwk)],
    ['the pretty-printed JWK JSON', JSON.stringify(jwk, null, 2)],
    ['the JWKS JSON text', JSON.stringify({ keys: [jwk] })],
  ];
  if (f.privatePem) spellings.push(['the PKCS #8 PEM', f.privatePem]);
  return spellings.map(([name, value]) => [name, typeof value === 'string' ? Buffer.from(value) : value]);
}

for (const alg of ASYMMETRIC_ALGS) {
  describe(`HS256 tokens made with the ${alg} public key as the HMAC secret`, () => {
    const f = fixture(alg);
    for (const [name, secret] of secretSpellings(alg)) {
      it(`${name}: never verify with the public Key, the private Key or a KeySet`, () => {
        const kid = f.verifyingKey.kid;
        const token = forge({ alg: 'HS256', typ: 'JWT' }, claims(), secret);
        const withKid = forge({ alg: 'HS256', typ: 'JWT', kid }, claims(), secret);
        const options = { algorithms: ['HS256', alg] as Algorithm[], currentDate: NOW_DATE };
        for (const key of [f.verifyingKey, f.signingKey]) {
          expectJoseError(() => verify(token, key, options), 'ERR_JOSE_KEY_MISMATCH', { claim: 'alg' });
          expectJoseError(() => verify(withKid, key, options), 'ERR_JOSE_KEY_MISMATCH');
        }
        const set = new KeySet([f.verifyingKey]);
        expectJoseError(() => verify(token, set, options), 'ERR_JWKS_NO_MATCHING_KEY');
        expectJoseError(() => verify(withKid, set, options), 'ERR_JWKS_NO_MATCHING_KEY');
        // With the allow-list the caller should have written, the token never reaches a key.
        expectJoseError(
          () => verify(token, f.verifyingKey, { algorithms: [alg] }),
          'ERR_JOSE_ALG_NOT_ALLOWED',
        );
      });
    }

    it('a public Key re-imported from JWK without "alg" is still bound to its family (no header fallback)', () => {
      const rawJwk = f.publicKeyObject!.export({ format: 'jwk' });
      const key = importJWK(rawJwk);
      expect(key.supports('HS256')).toBe(false);
      const token = forge({ alg: 'HS256' }, claims(), Buffer.from(JSON.stringify(rawJwk)));
      expectJoseError(
        () => verify(token, key, { algorithms: ['HS256', alg], currentDate: NOW_DATE }),
        'ERR_JOSE_KEY_MISMATCH',
      );
    });

    it('the same public key text refused by importSecret as an HMAC secret', () => {
      for (const text of [
        f.publicPem!,
        ` ${f.publicPem!}`,
        f.publicPem!.replace(/\n/g, '\r\n'),
        JSON.stringify(f.verifyingKey.toJWK()),
      ]) {
        for (const encoding of ['utf8', 'base64url', 'hex'] as const) {
          expectJoseError(() => importSecret(text, { encoding }), 'ERR_KEY_INVALID');
        }
        expectJoseError(() => importSecret(text, { encoding: 'utf8' }), 'ERR_KEY_INVALID', {
          reason: 'not_secret',
        });
        expectJoseError(() => importSecret(Buffer.from(text)), 'ERR_KEY_INVALID', { reason: 'not_secret' });
      }
      const der = f.publicKeyObject!.export({ format: 'der', type: 'spki' });
      expectJoseError(() => importSecret(der), 'ERR_KEY_INVALID', { reason: 'not_secret' });
      const pkcs8 = f.privateKeyObject!.export({ format: 'der', type: 'pkcs8' });
      expectJoseError(() => importSecret(pkcs8), 'ERR_KEY_INVALID', { reason: 'not_secret' });
    });
  });
}

describe('importSecret refuses key-looking text', () => {
  for (const [name, text] of [
    ['a PEM', '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n'],
    ['a PEM after text', 'my key is -----BEGIN PUBLIC KEY-----'],
    ['a JWK', '{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T"}'],
    ['a JWK with leading whitespace', '  \n{"kty":"RSA","n":"x","e":"AQAB"}'],
    ['a JSON array', '[{"kty":"oct"}]'],
    ['an SSH public key', 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl'],
    [
      'an ECDSA SSH key',
      'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEmKSENjQEezOmxkZMy7opKgwFB9nkt5YRrYMjNuG5N87uRgg6CLrbo5wAdT',
    ],
  ] as const) {
    it(`${name} → ERR_KEY_INVALID (not_secret)`, () => {
      expectJoseError(() => importSecret(text, { encoding: 'utf8' }), 'ERR_KEY_INVALID', {
        reason: 'not_secret',
      });
    });
  }

  it('random bytes, and 32 random bytes that happen to start with "{", are still fine', () => {
    expect(importSecret(SECRET).family).toBe('oct');
    const brace = Buffer.concat([Buffer.from('{'), SECRET.subarray(1)]);
    expect(importSecret(brace).family).toBe('oct');
  });
});

describe('a key is only ever used with its own family and algorithm', () => {
  const pairs: [Algorithm, Algorithm][] = [
    ['RS256', 'PS256'],
    ['PS256', 'RS256'],
    ['ES256', 'ES384'],
    ['ES384', 'ES512'],
    ['ES512', 'ES256'],
    ['EdDSA', 'ES256'],
    ['ES256', 'EdDSA'],
    ['RS256', 'ES256'],
    ['HS256', 'RS256'],
    ['HS384', 'HS256'],
  ];
  for (const [tokenAlg, keyAlg] of pairs) {
    it(`a ${tokenAlg} token offered to a key bound to ${keyAlg} → ERR_JOSE_KEY_MISMATCH`, () => {
      const token = sign(claims(), fixture(tokenAlg).signingKey, { alg: tokenAlg, expiresIn: 600 });
      expectJoseError(
        () => verify(token, fixture(keyAlg).verifyingKey, { algorithms: [tokenAlg, keyAlg] }),
        'ERR_JOSE_KEY_MISMATCH',
      );
    });
  }

  it('a custom resolver that returns a key of another family cannot make it be used: ERR_JOSE_KEY_MISMATCH', () => {
    const rsa = fixture('RS256').verifyingKey;
    const sloppy: KeyResolver = { select: () => rsa };
    const token = forge({ alg: 'HS256' }, claims(), Buffer.from(fixture('RS256').publicPem!));
    expectJoseError(
      () => createJWSVerifier(sloppy, { algorithms: ['HS256'] })(token),
      'ERR_JOSE_KEY_MISMATCH',
    );
    const notAKey = { select: () => ({ keyObject: rsa.keyObject }) } as unknown as KeyResolver;
    expectJoseErrorOneOf(
      () => createJWSVerifier(notAKey, { algorithms: ['HS256'] })(token),
      ['ERR_JOSE_KEY_MISMATCH'],
    );
  });

  it('an RSA private key imported from PEM for RS256 cannot be used for HS256 at import either', () => {
    expectJoseError(() => importPEM(fixture('RS256').privatePem!, { alg: 'HS256' }), 'ERR_KEY_INVALID');
    expect(fixture('RS256').signingKey).toBeInstanceOf(Key);
  });
});
