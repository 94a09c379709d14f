/**
 * Keys for JWE key management (RFC 7518 §4): only `RSA-OAEP-256` (RSA ≥ 2048 bits) and `ECDH-ES+A256KW` (P-256,
 * P-384, P-521). `RSA1_5` (Bleichenbacher) and `PBES2-*` (password-derived, `p2c` denial of service) are never
 * offered. A key is bound to its one algorithm, like signing keys are.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';

import { JoseError } from '../errors.js';
import { MIN_RSA_BITS } from '../jwk/key.js';
import { thumbprintOf } from '../jwk/thumbprint.js';
import type { JWK } from '../jwk/types.js';

/** JWE key-management algorithms Jot accepts. */
export type JWEKeyAlgorithm = 'RSA-OAEP-256' | 'ECDH-ES+A256KW';

/** The one content-encryption algorithm (RFC 7518 §5.3). */
export const JWE_CONTENT_ENCRYPTION = 'A256GCM';

/** Every key-management algorithm Jot accepts. */
export const JWE_KEY_ALGORITHMS: readonly JWEKeyAlgorithm[] = ['RSA-OAEP-256', 'ECDH-ES+A256KW'];

const CURVES = new Set(['P-256', 'P-384', 'P-521']);

/** An imported encryption key: the public half encrypts, the private half decrypts. */
export interface EncryptionKey {
  readonly alg: JWEKeyAlgorithm;
  readonly kid: string | undefined;
  readonly type: 'public' | 'private';
  readonly keyObject: KeyObject;
  /** EC curve of an `ECDH-ES+A256KW` key. */
  readonly curve: string | undefined;
  /** RSA modulus length in bytes (the size of an `RSA-OAEP-256` encrypted key). */
  readonly modulusBytes: number | undefined;
  /** The public JWK (with `alg`, `use: "enc"` and `kid`), as a resource server publishes it. */
  readonly publicJwk: Readonly<JWK>;
}

function invalid(message: string, claim?: string): JoseError {
  return new JoseError('ERR_KEY_INVALID', message, { claim, reason: 'jwk' });
}

/**
 * Imports a JWK for JWE. `alg` must be `RSA-OAEP-256` or `ECDH-ES+A256KW` (from the JWK or the argument), `use` must
 * be `enc` when present. A JWK with private members gives a decryption key.
 *
 * @example
 * const key = importEncryptionKey({ kty: 'EC', crv: 'P-256', x: '…', y: '…', alg: 'ECDH-ES+A256KW' });
 */
export function importEncryptionKey(jwk: unknown, alg?: JWEKeyAlgorithm): EncryptionKey {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw invalid('a JWK must be an object');
  const source = jwk as Record<string, unknown>;
  const own = (name: string): unknown => (Object.hasOwn(source, name) ? source[name] : undefined);
  const chosen = alg ?? own('alg');
  if (chosen !== 'RSA-OAEP-256' && chosen !== 'ECDH-ES+A256KW') {
    throw invalid('an encryption key needs "alg": "RSA-OAEP-256" or "ECDH-ES+A256KW"', 'alg');
  }
  if (own('alg') !== undefined && own('alg') !== chosen) throw invalid('the JWK "alg" disagrees', 'alg');
  if (own('use') !== undefined && own('use') !== 'enc') throw invalid('JWK "use" must be "enc"', 'use');
  const kid = own('kid');
  if (kid !== undefined && (typeof kid !== 'string' || kid.length === 0 || kid.length > 256))
    throw invalid('bad JWK "kid"', 'kid');
  const kty = own('kty');
  const members = kty === 'RSA' ? ['n', 'e'] : kty === 'EC' ? ['crv', 'x', 'y'] : undefined;
  if (members === undefined || (kty === 'RSA') !== (chosen === 'RSA-OAEP-256')) {
    throw invalid(`${String(chosen)} needs an ${chosen === 'RSA-OAEP-256' ? 'RSA' : 'EC'} key`, 'kty');
  }
  const isPrivate = own('d') !== undefined;
  const clean: Record<string, unknown> = { kty };
  const privateMembers = kty === 'RSA' ? ['d', 'p', 'q', 'dp', 'dq', 'qi'] : ['d'];
  for (const name of [...members, ...(isPrivate ? privateMembers : [])]) {
    if (typeof own(name) !== 'string') throw invalid(`JWK member "${name}" is required`, name);
    clean[name] = own(name);
  }
  if (kty === 'EC' && !CURVES.has(clean.crv as string)) throw invalid('unsupported curve', 'crv');
  let keyObject: KeyObject;
  try {
    keyObject = isPrivate
      ? createPrivateKey({ key: clean as JWK, format: 'jwk' })
      : createPublicKey({ key: clean as JWK, format: 'jwk' });
  } catch {
    throw invalid(`the ${String(kty)} JWK is not a valid key`);
  }
  const bits = keyObject.asymmetricKeyDetails?.modulusLength;
  if (kty === 'RSA' && (bits === undefined || bits < MIN_RSA_BITS)) {
    throw new JoseError('ERR_KEY_INVALID', `RSA keys need at least ${MIN_RSA_BITS} bits`, {
      reason: 'too_short',
    });
  }
  const publicJwk = (isPrivate ? createPublicKey(keyObject) : keyObject).export({ format: 'jwk' }) as JWK;
  return Object.freeze({
    alg: chosen,
    kid: kid,
    type: isPrivate ? 'private' : 'public',
    keyObject,
    curve: kty === 'EC' ? (clean.crv as string) : undefined,
    modulusBytes: bits === undefined ? undefined : Math.ceil(bits / 8),
    publicJwk: Object.freeze({
      ...publicJwk,
      alg: chosen,
      use: 'enc',
      kid: kid ?? thumbprintOf(publicJwk),
    }),
  });
}
