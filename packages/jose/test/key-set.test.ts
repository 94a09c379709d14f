/**
 * KeySet: keys looked up by `kid` in a `Map` (so `__proto__`, `constructor` or `toString` find nothing), then by
 * whether the key may be used with the token's `alg`; a key is never used outside its own family.
 */
import { Buffer } from 'node:buffer';

import { describe, expect, it } from 'vitest';

import {
  KeySet,
  generateKeyPair,
  generateSecret,
  importJWK,
  sign,
  verify,
  type Algorithm,
} from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { NOW_DATE, claims, forge } from './support/tokens.js';

const es256 = generateKeyPair('ES256', { kid: 'ec-1' });
const es256b = generateKeyPair('ES256', { kid: 'ec-2' });
const rs256 = generateKeyPair('RS256', { kid: 'rsa-1' });
const hs256 = generateSecret('HS256', { kid: 'hmac-1' });
const set = new KeySet([es256.publicKey(), es256b.publicKey(), rs256.publicKey()]);
const ALL: Algorithm[] = ['ES256', 'RS256', 'HS256', 'PS256'];
const opts = { algorithms: ALL, currentDate: NOW_DATE };
const tokenFrom = (key: typeof es256) => sign(claims(), key, { currentDate: NOW_DATE });

describe('KeySet selection', () => {
  it('selects by kid, then by alg', () => {
    expect(verify(tokenFrom(es256), set, opts).key.kid).toBe('ec-1');
    expect(verify(tokenFrom(es256b), set, opts).key.kid).toBe('ec-2');
    expect(verify(tokenFrom(rs256), set, opts).key.kid).toBe('rsa-1');
    expect(set.get('ec-2')?.kid).toBe('ec-2');
    expect(set.get('missing')).toBeUndefined();
  });

  it('a kid naming a key of another family finds nothing → ERR_JWKS_NO_MATCHING_KEY', () => {
    const token = sign(claims(), generateKeyPair('ES256'), { kid: 'rsa-1', currentDate: NOW_DATE });
    expectJoseError(() => verify(token, set, opts), 'ERR_JWKS_NO_MATCHING_KEY', { claim: 'kid' });
  });

  it('an unknown kid → ERR_JWKS_NO_MATCHING_KEY', () => {
    const token = sign(claims(), es256, { kid: 'nope', currentDate: NOW_DATE });
    expectJoseError(() => verify(token, set, opts), 'ERR_JWKS_NO_MATCHING_KEY');
  });

  for (const kid of [
    '__proto__',
    'constructor',
    'toString',
    'hasOwnProperty',
    'valueOf',
    '__defineGetter__',
    'prototype',
  ]) {
    it(`kid "${kid}" finds nothing → ERR_JWKS_NO_MATCHING_KEY`, () => {
      const token = sign(claims(), es256, { kid, currentDate: NOW_DATE });
      expectJoseError(() => verify(token, set, opts), 'ERR_JWKS_NO_MATCHING_KEY');
      expect(set.get(kid)).toBeUndefined();
    });
  }

  it('kids that look like paths or queries are opaque strings', () => {
    for (const kid of [
      '../../etc/passwd',
      "ec-1' OR '1'='1",
      'ec-1;rm -rf /',
      'ec-1\u0000',
      'EC-1',
      ' ec-1',
    ]) {
      const token = sign(claims(), es256, { kid, currentDate: NOW_DATE });
      expectJoseError(() => verify(token, set, opts), 'ERR_JWKS_NO_MATCHING_KEY');
    }
  });

  it('no kid: the single key that can verify the alg is used; two candidates → ERR_JWKS_MULTIPLE_MATCHING_KEYS', () => {
    const rsaToken = sign(claims(), rs256, { kid: false, currentDate: NOW_DATE });
    expect(verify(rsaToken, set, opts).key.kid).toBe('rsa-1');
    const ecToken = sign(claims(), es256, { kid: false, currentDate: NOW_DATE });
    expectJoseError(() => verify(ecToken, set, opts), 'ERR_JWKS_MULTIPLE_MATCHING_KEYS');
    const psToken = sign(claims(), generateKeyPair('PS256'), { kid: false, currentDate: NOW_DATE });
    expectJoseError(() => verify(psToken, set, opts), 'ERR_JWKS_NO_MATCHING_KEY');
  });

  it('one kid shared by keys of two families (rotation) resolves by alg', () => {
    const ec = generateKeyPair('ES256', { kid: 'shared' });
    const rsa = generateKeyPair('RS256', { kid: 'shared' });
    const shared = new KeySet([ec.publicKey(), rsa.publicKey()]);
    expect(verify(tokenFrom(ec), shared, opts).key.family).toBe('EC');
    expect(verify(tokenFrom(rsa), shared, opts).key.family).toBe('RSA');
  });

  it('an HS256 token with the kid of an RSA key and its PEM as secret finds nothing', () => {
    const token = forge({ alg: 'HS256', kid: 'rsa-1' }, claims(), Buffer.from(rs256.publicKey().toPEM()));
    expectJoseError(() => verify(token, set, opts), 'ERR_JWKS_NO_MATCHING_KEY');
  });

  it('a set holding a secret verifies HS256 with it', () => {
    const withSecret = new KeySet([hs256, rs256.publicKey()]);
    const token = sign(claims(), hs256, { currentDate: NOW_DATE });
    expect(verify(token, withSecret, opts).key.kid).toBe('hmac-1');
  });
});

describe('KeySet.fromJWKS and toJWKS', () => {
  it('imports usable signing keys, skips and counts the rest', () => {
    const jwks = {
      keys: [
        es256.toJWK(),
        rs256.toJWK(),
        { ...es256b.toJWK(), use: 'enc' },
        { kty: 'RSA', n: 'AQAB', e: 'AQAB' },
        { kty: 'oct', k: 'c2hvcnQ' },
        'not a key',
        null,
      ],
    };
    const imported = KeySet.fromJWKS(jwks);
    expect(imported.keys.map((k) => k.kid)).toEqual(['ec-1', 'rsa-1']);
    expect(imported.skipped).toBe(5);
    expect(verify(tokenFrom(es256), imported, opts).key.kid).toBe('ec-1');
  });

  it('a JWKS that is not an object with a keys array → ERR_KEY_INVALID', () => {
    for (const bad of [null, [], 'x', {}, { keys: {} }])
      expectJoseError(() => KeySet.fromJWKS(bad), 'ERR_KEY_INVALID');
  });

  it('toJWKS publishes public members only and skips secrets', () => {
    const mixed = new KeySet([es256, rs256, hs256]);
    const { keys } = mixed.toJWKS();
    expect(keys.map((k) => k.kid)).toEqual(['ec-1', 'rsa-1']);
    for (const jwk of keys)
      for (const member of ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']) expect(jwk).not.toHaveProperty(member);
    expect(
      KeySet.fromJWKS(JSON.parse(JSON.stringify(mixed.toJWKS()))).keys.every((k) => k.type === 'public'),
    ).toBe(true);
    expect(importJWK(keys[0]).kid).toBe('ec-1');
  });
});
