/** Fresh keys for signing: key pairs for the asymmetric algorithms, random secrets for HMAC. */
import {
  createPrivateKey,
  createSecretKey,
  generateKeyPairSync,
  randomBytes,
  type KeyObject,
} from 'node:crypto';

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
 * Node's key-pair generation job keeps the generated key and, when the garbage collector frees the job, locks that
 * key's mutex (`~KeyPairGenConfig`). A `KeyObject` handed out by `generateKeyPairSync` shares that mutex, and
 * exporting it (`export({ format: 'jwk' })` holds the mutex while it allocates) can start that very collection: the
 * thread then waits for its own lock, forever (seen in our test suite, Node 20; the same code is in later releases).
 * So the pair is asked for already encoded (the job's key never leaves the job) and the private key is re-imported
 * as a key of its own.
 */
const PRIVATE_DER = { type: 'pkcs8', format: 'der' } as const;
const PUBLIC_DER = { type: 'spki', format: 'der' } as const;

/** A private key with its own key data (and mutex), independent of the generation job. */
function detached(pkcs8: Buffer): KeyObject {
  return createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
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
  let der: Buffer;
  if (spec.family === 'RSA') {
    const modulusLength = options.modulusLength ?? MIN_RSA_BITS;
    if (!Number.isInteger(modulusLength) || modulusLength < MIN_RSA_BITS) {
      throw new TypeError(`generateKeyPair: modulusLength must be an integer ≥ ${MIN_RSA_BITS}`);
    }
    der = generateKeyPairSync('rsa', {
      modulusLength,
      privateKeyEncoding: PRIVATE_DER,
      publicKeyEncoding: PUBLIC_DER,
    }).privateKey;
  } else if (spec.family === 'EC') {
    const namedCurve =
      spec.curve === 'P-256' ? 'prime256v1' : spec.curve === 'P-384' ? 'secp384r1' : 'secp521r1';
    der = generateKeyPairSync('ec', {
      namedCurve,
      privateKeyEncoding: PRIVATE_DER,
      publicKeyEncoding: PUBLIC_DER,
    }).privateKey;
  } else {
    der = generateKeyPairSync('ed25519', {
      privateKeyEncoding: PRIVATE_DER,
      publicKeyEncoding: PUBLIC_DER,
    }).privateKey;
  }
  return new Key(detached(der), { alg, kid: options.kid });
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
