/**
 * JWK import (RFC 7517, RFC 7518 §6, RFC 8037). Only the members of the key's type are read, from own properties,
 * into a fresh object, so a hostile JWK cannot smuggle anything into Node through its prototype.
 */
import { Buffer } from 'node:buffer';
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';

import { isAlgorithm } from '../lib/algorithms.js';
import { decodeBase64url } from '../lib/base64url.js';
import { JoseError } from '../errors.js';
import { Key, type KeyOptions } from './key.js';

const MEMBERS: Readonly<Record<string, { public: readonly string[]; private: readonly string[] }>> = {
  RSA: { public: ['n', 'e'], private: ['d', 'p', 'q', 'dp', 'dq', 'qi'] },
  EC: { public: ['crv', 'x', 'y'], private: ['d'] },
  OKP: { public: ['crv', 'x'], private: ['d'] },
  oct: { public: [], private: ['k'] },
};

function invalid(message: string, claim?: string): JoseError {
  return new JoseError('ERR_KEY_INVALID', message, { claim, reason: 'jwk' });
}

function member(jwk: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(jwk, name) ? jwk[name] : undefined;
}

/**
 * Imports a JWK. The key is bound to the JWK's `alg` when it has one (or to `options.alg`; both must agree), else
 * to every algorithm of its family. `use` other than `sig` and `key_ops` without `sign`/`verify` are refused.
 *
 * @example
 * const key = importJWK({ kty: 'EC', crv: 'P-256', x: '…', y: '…' });
 * key.alg; // 'ES256'
 */
export function importJWK(jwk: unknown, options: KeyOptions = {}): Key {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk))
    throw invalid('a JWK must be a JSON object');
  const source = jwk as Record<string, unknown>;
  const kty = member(source, 'kty');
  const shape = typeof kty === 'string' && Object.hasOwn(MEMBERS, kty) ? MEMBERS[kty] : undefined;
  if (shape === undefined) throw invalid('unsupported or missing JWK "kty"', 'kty');

  const use = member(source, 'use');
  if (use !== undefined && use !== 'sig') throw invalid('JWK "use" must be "sig" for a signing key', 'use');
  const ops = member(source, 'key_ops');
  if (ops !== undefined) {
    if (!Array.isArray(ops) || !ops.every((op) => typeof op === 'string'))
      throw invalid('bad JWK "key_ops"', 'key_ops');
    if (!ops.includes('sign') && !ops.includes('verify'))
      throw invalid('JWK "key_ops" allows no signing', 'key_ops');
  }
  const alg = member(source, 'alg');
  if (alg !== undefined && !isAlgorithm(alg)) throw invalid('unsupported JWK "alg"', 'alg');
  if (alg !== undefined && options.alg !== undefined && alg !== options.alg) {
    throw invalid(`JWK "alg" is ${alg} but ${options.alg} was requested`, 'alg');
  }
  const kid = member(source, 'kid');
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0))
    throw invalid('bad JWK "kid"', 'kid');

  const clean: Record<string, string> = { kty: kty as string };
  for (const name of shape.public) clean[name] = stringMember(source, name);
  const isPrivate = shape.private.some((name) => member(source, name) !== undefined);
  if (isPrivate) for (const name of shape.private) clean[name] = stringMember(source, name);

  let keyObject: KeyObject;
  try {
    if (kty === 'oct') {
      keyObject = createSecretKey(decodeBase64url(clean.k ?? '') ?? Buffer.alloc(0));
    } else if (isPrivate) {
      keyObject = createPrivateKey({ key: clean, format: 'jwk' });
    } else {
      keyObject = createPublicKey({ key: clean, format: 'jwk' });
    }
  } catch {
    throw invalid(`the ${String(kty)} JWK is not a valid key`);
  }
  if (kty === 'oct' && keyObject.symmetricKeySize === 0)
    throw invalid('JWK "k" is empty or not base64url', 'k');
  return new Key(keyObject, {
    alg: options.alg ?? alg,
    kid: options.kid ?? kid,
  });
}

function stringMember(source: Record<string, unknown>, name: string): string {
  const value = member(source, name);
  if (name === 'crv' && typeof value === 'string') return value;
  if (typeof value === 'string' && value.length > 0 && decodeBase64url(value) !== undefined) return value;
  throw invalid(`JWK member "${name}" must be a non-empty base64url string`, name);
}
