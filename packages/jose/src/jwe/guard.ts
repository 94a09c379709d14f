/**
 * Checks on a compact JWE before any cryptography runs (RFC 8725 §3.1–3.4 and the known JWE attacks): the size,
 * the shape, an algorithm on our list (never `RSA1_5`, never `PBES2-*`), `A256GCM` only, no `zip` (compression
 * oracles and decompression bombs), no `crit`, `cty: "JWT"` (only nested JWTs are decrypted), an `epk` that is a
 * point on the recipient's curve (invalid-curve attacks), and segment lengths that fit the algorithms.
 */
import { createPublicKey } from 'node:crypto';

import { JoseError } from '../errors.js';
import { decodeBase64url } from '../lib/base64url.js';
import { decodeJSONObject } from '../jws/segments.js';
import { JWE_CONTENT_ENCRYPTION, type EncryptionKey, type JWEKeyAlgorithm } from './encryption-key.js';

/** JWEs longer than this are refused before decoding. @default 16384 */
export const DEFAULT_MAX_JWE_LENGTH = 16_384;

/** The parts of a compact JWE that passed the checks. */
export interface CheckedJWE {
  readonly header: Readonly<Record<string, unknown>>;
  readonly alg: JWEKeyAlgorithm;
  readonly kid: string | undefined;
}

function invalid(message: string, reason: string, claim?: string): JoseError {
  return new JoseError('ERR_JWE_INVALID', message, { reason, claim });
}

function segmentBytes(segment: string, what: string): number {
  const bytes = decodeBase64url(segment);
  if (bytes === undefined) throw invalid(`the JWE ${what} is not canonical base64url`, 'base64url');
  return bytes.length;
}

/**
 * Checks a compact JWE against the recipient keys' algorithms; throws `ERR_JWE_TOO_LARGE` or `ERR_JWE_INVALID`.
 *
 * @example
 * const { alg, kid } = checkCompactJWE(token, [key], 16384);
 */
export function checkCompactJWE(
  jwe: string,
  keys: readonly EncryptionKey[],
  maxLength = DEFAULT_MAX_JWE_LENGTH,
): CheckedJWE {
  if (typeof jwe !== 'string') throw invalid('the token must be a string', 'malformed');
  if (jwe.length > maxLength) {
    throw new JoseError('ERR_JWE_TOO_LARGE', `the encrypted token is longer than ${maxLength} characters`, {
      reason: 'length',
    });
  }
  const parts = jwe.split('.');
  if (parts.length !== 5) throw invalid('a compact JWE has exactly five parts', 'malformed');
  const [headerSegment, encryptedKey, iv, ciphertext, tag] = parts as [
    string,
    string,
    string,
    string,
    string,
  ];
  let header: Record<string, unknown>;
  try {
    header = decodeJSONObject(headerSegment, 'JWE header', 'ERR_JWE_INVALID');
  } catch {
    throw invalid('the JWE header is not a JSON object', 'malformed');
  }
  const alg = header.alg;
  if (typeof alg === 'string' && (alg === 'RSA1_5' || alg.startsWith('PBES2'))) {
    throw invalid(`the JWE algorithm ${alg} is never accepted`, 'alg', 'alg');
  }
  if (Object.hasOwn(header, 'p2c') || Object.hasOwn(header, 'p2s')) {
    throw invalid('PBES2 parameters (p2c, p2s) are never accepted', 'p2c', 'p2c');
  }
  const key = keys.find((k) => k.alg === alg && (header.kid === undefined || header.kid === k.publicJwk.kid));
  if (key === undefined) throw invalid('no decryption key for this JWE algorithm and kid', 'alg', 'alg');
  if (header.enc !== JWE_CONTENT_ENCRYPTION)
    throw invalid('only A256GCM content encryption is accepted', 'enc', 'enc');
  if (Object.hasOwn(header, 'zip')) throw invalid('compressed JWEs ("zip") are never accepted', 'zip', 'zip');
  if (Object.hasOwn(header, 'crit'))
    throw invalid('JWE header extensions ("crit") are not supported', 'crit', 'crit');
  if (typeof header.cty !== 'string' || header.cty.toUpperCase() !== 'JWT') {
    throw invalid('only nested JWTs ("cty": "JWT") are decrypted', 'cty', 'cty');
  }
  if (segmentBytes(iv, 'iv') !== 12) throw invalid('A256GCM needs a 96-bit iv', 'iv');
  if (segmentBytes(tag, 'tag') !== 16) throw invalid('A256GCM needs a 128-bit tag', 'tag');
  segmentBytes(ciphertext, 'ciphertext');
  const wrapped = segmentBytes(encryptedKey, 'encrypted key');
  if (key.alg === 'RSA-OAEP-256') {
    if (wrapped !== key.modulusBytes)
      throw invalid('the encrypted key has the wrong length', 'encrypted_key');
    if (Object.hasOwn(header, 'epk')) throw invalid('"epk" belongs to ECDH-ES only', 'epk', 'epk');
  } else {
    if (wrapped !== 40) throw invalid('the wrapped key has the wrong length', 'encrypted_key');
    checkEphemeralKey(header.epk, key.curve);
  }
  return { header, alg: key.alg, kid: typeof header.kid === 'string' ? header.kid : undefined };
}

/** The `epk` must be a public EC key on the recipient's curve; Node refuses points that are not on the curve. */
function checkEphemeralKey(epk: unknown, curve: string | undefined): void {
  if (typeof epk !== 'object' || epk === null || Array.isArray(epk)) {
    throw invalid('ECDH-ES needs an "epk" public key', 'epk', 'epk');
  }
  const { kty, crv, x, y, d } = epk as Record<string, unknown>;
  if (kty !== 'EC' || crv !== curve || typeof x !== 'string' || typeof y !== 'string' || d !== undefined) {
    throw invalid('the "epk" must be a public EC key on the recipient\'s curve', 'epk', 'epk');
  }
  try {
    createPublicKey({ key: { kty, crv: curve, x, y }, format: 'jwk' });
  } catch {
    throw invalid('the "epk" is not a point on its curve', 'epk', 'epk');
  }
}
