/** Fresh keys for signing: key pairs for the asymmetric algorithms, random secrets for HMAC. */
import { generateKeyPairSync, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';

import { ALGORITHMS, type Algorithm } from '../lib/algorithms.js';
import { Key, MIN_RSA_BITS } from './key.js';

/** Options for `generateKeyPair`. */
export interface GenerateKeyPairOptions {
  /** RSA modulus length; at least 2048. @default 2048 */
  modulusLength?: number;
  /** Key id; defaults to the RFC 7638 thumbprint. */
  kid?: string;
}

/**
 * Generates a private key for `alg` (its public half is `key.publicKey()`). The key is bound to `alg`.
 *
 * @example
 * const privateKey = generateKeyPair('ES256');
 * const jwks = { keys: [privateKey.publicKey().toJWK()] };
 */
export function generateKeyPair(alg: Algorithm, options: GenerateKeyPairOptions = {}): Key {
  const spec = ALGORITHMS.get(alg);
  if (spec === undefined || spec.family === 'oct') {
    throw new TypeError(`generateKeyPair: ${String(alg)} is not an asymmetric algorithm; use generateSecret`);
  }
  let privateKey: KeyObject;
  if (spec.family === 'RSA') {
    const modulusLength = options.modulusLength ?? MIN_RSA_BITS;
    if (!Number.isInteger(modulusLength) || modulusLength < MIN_RSA_BITS) {
      throw new TypeError(`generateKeyPair: modulusLength must be an integer ≥ ${MIN_RSA_BITS}`);
    }
    privateKey = generateKeyPairSync('rsa', { modulusLength }).privateKey;
  } else if (spec.family === 'EC') {
    const namedCurve =
      spec.curve === 'P-256' ? 'prime256v1' : spec.curve === 'P-384' ? 'secp384r1' : 'secp521r1';
    privateKey = generateKeyPairSync('ec', { namedCurve }).privateKey;
  } else {
    privateKey = generateKeyPairSync('ed25519').privateKey;
  }
  return new Key(privateKey, { alg, kid: options.kid });
}

/**
 * Generates a random HMAC secret as long as the algorithm's hash (32, 48 or 64 bytes), bound to `alg`.
 *
 * @example
 * const secret = generateSecret('HS256');
 */
export function generateSecret(
  alg: 'HS256' | 'HS384' | 'HS512' = 'HS256',
  options: { kid?: string } = {},
): Key {
  const spec = ALGORITHMS.get(alg);
  if (spec === undefined || spec.family !== 'oct')
    throw new TypeError(`generateSecret: ${String(alg)} is not HMAC`);
  return new Key(createSecretKey(randomBytes(spec.minSecretBytes)), { alg, kid: options.kid });
}
