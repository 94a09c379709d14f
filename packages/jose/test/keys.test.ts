/**
 * Keys: import from JWK, PEM and raw secrets into a `Key` bound to its family; generation helpers bound to their
 * algorithm; weak keys refused (RSA < 2048 bits, HMAC < 256 bits); exports never leak private members by accident;
 * the default `kid` is the RFC 7638 thumbprint.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';

import { calculateJwkThumbprint } from 'jose';
import { describe, expect, it } from 'vitest';

import {
  MIN_RSA_BITS,
  generateKeyPair,
  generateSecret,
  importJWK,
  importPEM,
  importSecret,
  sign,
  verify,
  type Algorithm,
} from '../src/index.js';
import { expectJoseError } from './support/assert.js';
import { ASYMMETRIC_ALGS, fixture } from './support/keys.js';
import { keyPair } from '../../../test-support/key-pair.js';

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

describe('weak keys are refused', () => {
  const weak = keyPair({ type: 'rsa', modulusLength: 1024 });

  it(`RSA keys under ${MIN_RSA_BITS} bits: PEM and JWK, public and private → ERR_KEY_INVALID (too_short)`, () => {
    const inputs = [
      () => importPEM(weak.publicKey.export({ format: 'pem', type: 'spki' }) as string),
      () => importPEM(weak.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string),
      () => importPEM(weak.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string),
      () => importJWK(weak.publicKey.export({ format: 'jwk' })),
      () => importJWK(weak.privateKey.export({ format: 'jwk' })),
    ];
    for (const input of inputs) expectJoseError(input, 'ERR_KEY_INVALID', { reason: 'too_short' });
  });

  it('generateKeyPair refuses a modulus under 2048 bits (TypeError: misuse)', () => {
    expect(() => generateKeyPair('RS256', { modulusLength: 1024 })).toThrow(TypeError);
    expect(() => generateKeyPair('PS256', { modulusLength: 2047 })).toThrow(TypeError);
  });

  it('HMAC secrets under 256 bits → ERR_KEY_INVALID; each HS alg needs its hash size', () => {
    expectJoseError(() => importSecret(randomBytes(31)), 'ERR_KEY_INVALID', { reason: 'too_short' });
    expectJoseError(() => importSecret(new Uint8Array(0)), 'ERR_KEY_INVALID', { reason: 'too_short' });
    expectJoseError(() => importSecret('c2hvcnQ'), 'ERR_KEY_INVALID', { reason: 'too_short' });
    expectJoseError(() => importSecret('password', { encoding: 'utf8' }), 'ERR_KEY_INVALID');
    expectJoseError(
      () => importJWK({ kty: 'oct', k: randomBytes(16).toString('base64url') }),
      'ERR_KEY_INVALID',
    );
    expect([...importSecret(randomBytes(32)).algorithms]).toEqual(['HS256']);
    expect([...importSecret(randomBytes(48)).algorithms]).toEqual(['HS256', 'HS384']);
    expect([...importSecret(randomBytes(64)).algorithms]).toEqual(['HS256', 'HS384', 'HS512']);
    expectJoseError(() => importSecret(randomBytes(32), { alg: 'HS512' }), 'ERR_KEY_INVALID');
  });

  it('secrets in every encoding decode to the same key material', () => {
    const bytes = randomBytes(32);
    const a = importSecret(bytes).toJWK({ includePrivate: true }).k;
    expect(importSecret(bytes.toString('base64url')).toJWK({ includePrivate: true }).k).toBe(a);
    expect(importSecret(bytes.toString('hex'), { encoding: 'hex' }).toJWK({ includePrivate: true }).k).toBe(
      a,
    );
    expectJoseError(() => importSecret(bytes.toString('base64')), 'ERR_KEY_INVALID', { reason: 'encoding' });
    expectJoseError(() => importSecret('zz'.repeat(32), { encoding: 'hex' }), 'ERR_KEY_INVALID', {
      reason: 'encoding',
    });
  });
});

describe('generation helpers are bound to their algorithm', () => {
  for (const alg of ASYMMETRIC_ALGS) {
    it(`generateKeyPair('${alg}') signs and verifies ${alg} only`, () => {
      const key = generateKeyPair(alg);
      expect(key.type).toBe('private');
      expect(key.alg).toBe(alg);
      expect([...key.algorithms]).toEqual([alg]);
      expect(key.publicKey().alg).toBe(alg);
      expect(key.publicKey().type).toBe('public');
      expect(key.toJWK().alg).toBe(alg);
      const token = sign({ sub: 'u' }, key, { expiresIn: 60 });
      expect(verify(token, key.publicKey(), { algorithms: [alg] }).payload.sub).toBe('u');
      const other: Algorithm =
        alg === 'PS256' ? 'RS256' : alg === 'RS256' ? 'PS256' : alg === 'ES256' ? 'ES384' : 'ES256';
      expect(() => sign({ sub: 'u' }, key, { alg: other })).toThrow(TypeError);
    });
  }

  for (const alg of ['HS256', 'HS384', 'HS512'] as const) {
    it(`generateSecret('${alg}') is ${alg} only and as long as its hash`, () => {
      const key = generateSecret(alg);
      expect(key.type).toBe('secret');
      expect(key.alg).toBe(alg);
      expect([...key.algorithms]).toEqual([alg]);
      expect(key.bits).toBe(Number(alg.slice(2)));
      expect(Buffer.from(key.toJWK({ includePrivate: true }).k!, 'base64url')).toHaveLength(
        Number(alg.slice(2)) / 8,
      );
    });
  }

  it('generateSecret with a non-HMAC alg and generateKeyPair with HMAC are TypeErrors', () => {
    expect(() => generateSecret('RS256' as never)).toThrow(TypeError);
    expect(() => generateKeyPair('HS256')).toThrow(TypeError);
    expect(() => generateKeyPair('none' as never)).toThrow(TypeError);
  });

  it('a generated kid is the RFC 7638 thumbprint of the public key; a given kid is kept', async () => {
    const key = generateKeyPair('ES256');
    expect(key.kid).toBe(await calculateJwkThumbprint(key.toJWK() as never));
    expect(key.publicKey().kid).toBe(key.kid);
    expect(generateKeyPair('ES256', { kid: 'k1' }).kid).toBe('k1');
  });
});

describe('exports never leak private members without includePrivate', () => {
  for (const alg of ASYMMETRIC_ALGS) {
    it(`${alg}: toJWK() of the private key is the public JWK; includePrivate adds d`, () => {
      const key = fixture(alg).signingKey;
      const jwk = key.toJWK();
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member);
      expect(jwk).toEqual(key.publicKey().toJWK());
      expect(jwk.use).toBe('sig');
      expect(jwk.kid).toBe(key.kid);
      expect(key.toJWK({ includePrivate: false })).toEqual(jwk);
      expect(key.toJWK({ includePrivate: true }).d).toEqual(expect.any(String));
      expect(importJWK(key.toJWK({ includePrivate: true })).type).toBe('private');
      expect(key.toPEM()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
      expect(key.publicKey().toPEM()).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    });
  }

  it('a secret cannot be exported without includePrivate, and has no PEM or public key', () => {
    const key = generateSecret('HS256');
    expect(() => key.toJWK()).toThrow(TypeError);
    expect(() => key.toJWK({ includePrivate: false })).toThrow(TypeError);
    expect(key.toJWK({ includePrivate: true })).toMatchObject({
      kty: 'oct',
      alg: 'HS256',
      use: 'sig',
      k: expect.any(String),
    });
    expect(() => key.toPEM()).toThrow(TypeError);
    expect(() => key.publicKey()).toThrow(TypeError);
  });
});

describe('importJWK', () => {
  const es = fixture('ES256');
  const publicJwk = es.publicKeyObject!.export({ format: 'jwk' });

  it('binds to the JWK alg, or to the whole family when there is none', () => {
    expect(importJWK(publicJwk).alg).toBe('ES256');
    const rsa = fixture('RS256').publicKeyObject!.export({ format: 'jwk' });
    expect([...importJWK(rsa).algorithms].sort()).toEqual([
      'PS256',
      'PS384',
      'PS512',
      'RS256',
      'RS384',
      'RS512',
    ]);
    expect([...importJWK({ ...rsa, alg: 'PS384' }).algorithms]).toEqual(['PS384']);
    expect(importJWK(rsa, { alg: 'RS512' }).alg).toBe('RS512');
  });

  for (const [name, jwk] of [
    ['use "enc"', { ...publicJwk, use: 'enc' }],
    ['key_ops without sign/verify', { ...publicJwk, key_ops: ['encrypt'] }],
    ['key_ops not an array', { ...publicJwk, key_ops: 'verify' }],
    ['alg "none"', { ...publicJwk, alg: 'none' }],
    ['alg of another family', { ...publicJwk, alg: 'RS256' }],
    ['alg of another curve', { ...publicJwk, alg: 'ES384' }],
    ['an unknown kty', { ...publicJwk, kty: 'XYZ' }],
    ['kty "__proto__"', { ...publicJwk, kty: '__proto__' }],
    ['a missing kty', { crv: 'P-256', x: publicJwk.x, y: publicJwk.y }],
    ['an unsupported curve', { ...publicJwk, crv: 'secp256k1' }],
    ['a padded x', { ...publicJwk, x: `${publicJwk.x}=` }],
    ['a non-string y', { ...publicJwk, y: 1 }],
    ['a point off the curve', { ...publicJwk, y: publicJwk.x }],
    ['an empty kid', { ...publicJwk, kid: '' }],
    ['an X25519 (encryption) key', keyPair({ type: 'x25519' }).publicKey.export({ format: 'jwk' })],
    ['an array', [publicJwk]],
    ['null', null],
    ['a string', JSON.stringify(publicJwk)],
  ] as const) {
    it(`${name} → ERR_KEY_INVALID`, () => expectJoseError(() => importJWK(jwk), 'ERR_KEY_INVALID'));
  }

  it('options.alg that contradicts the JWK alg → ERR_KEY_INVALID', () =>
    expectJoseError(() => importJWK({ ...publicJwk, alg: 'ES256' }, { alg: 'ES384' }), 'ERR_KEY_INVALID'));

  it('inherited members are ignored: a JWK whose d comes from its prototype imports as a public key', () => {
    const privateJwk = es.privateKeyObject!.export({ format: 'jwk' });
    const sneaky = Object.create({ d: privateJwk.d }) as Record<string, unknown>;
    for (const [name, value] of Object.entries(publicJwk)) sneaky[name] = value;
    expect(importJWK(sneaky).type).toBe('public');
  });
});

describe('importPEM', () => {
  it('reads SPKI, PKCS #8, PKCS #1 and SEC 1, and refuses garbage', () => {
    const rsa = fixture('RS256');
    const ec = fixture('ES384');
    expect(importPEM(rsa.publicPem!).type).toBe('public');
    expect(importPEM(rsa.privatePem!).type).toBe('private');
    expect(importPEM(rsa.privateKeyObject!.export({ format: 'pem', type: 'pkcs1' }) as string).type).toBe(
      'private',
    );
    expect(importPEM(rsa.publicKeyObject!.export({ format: 'pem', type: 'pkcs1' }) as string).type).toBe(
      'public',
    );
    expect(importPEM(ec.privateKeyObject!.export({ format: 'pem', type: 'sec1' }) as string).alg).toBe(
      'ES384',
    );
    expect(importPEM(fixture('EdDSA').publicPem!).curve).toBe('Ed25519');
    expectJoseError(() => importPEM('not a pem'), 'ERR_KEY_INVALID', { reason: 'pem' });
    expectJoseError(
      () => importPEM('-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n'),
      'ERR_KEY_INVALID',
    );
    expectJoseError(() => importPEM(rsa.publicPem!, { alg: 'ES256' }), 'ERR_KEY_INVALID');
    expectJoseError(
      () =>
        importPEM(keyPair({ type: 'x25519' }).publicKey.export({ format: 'pem', type: 'spki' }) as string),
      'ERR_KEY_INVALID',
    );
  });

  it('an Ed25519 key offers EdDSA and Ed25519, so signing without alg is a TypeError', () => {
    const key = importPEM(fixture('EdDSA').privatePem!);
    expect(key.alg).toBeUndefined();
    expect([...key.algorithms]).toEqual(['EdDSA', 'Ed25519']);
    expect(() => sign({ sub: 'u' }, key)).toThrow(TypeError);
    const token = sign({ sub: 'u' }, key, { alg: 'Ed25519', expiresIn: 60 });
    expect(verify(token, key.publicKey(), { algorithms: ['Ed25519'] }).header.alg).toBe('Ed25519');
  });

  it('PEM round trip keeps the key and its thumbprint', () => {
    for (const alg of ASYMMETRIC_ALGS) {
      const key = fixture(alg).signingKey;
      expect(importPEM(key.toPEM(), { alg }).thumbprint()).toBe(key.thumbprint());
      expect(importPEM(key.publicKey().toPEM(), { alg }).kid).toBe(key.kid);
    }
  });
});
