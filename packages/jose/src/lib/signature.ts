/**
 * The signature operation itself, over bytes, for one algorithm and one key — the only place that calls OpenSSL.
 * Parameters are fixed per algorithm here, never taken from a token: PSS salt length equals the digest length
 * (Node's default would accept any salt, including none), ECDSA uses IEEE P1363 form of an exact length
 * (psychic signatures, CVE-2022-21449), HMAC tags are compared in constant time.
 */
import { Buffer } from 'node:buffer';
import {
  constants,
  createHmac,
  sign as cryptoSign,
  timingSafeEqual,
  verify as cryptoVerify,
} from 'node:crypto';
import type { KeyObject, SignKeyObjectInput, VerifyKeyObjectInput } from 'node:crypto';

import type { AlgorithmSpec } from './algorithms.js';

/** The key argument of `crypto.sign`/`crypto.verify`. */
export type KeyInput = KeyObject | SignKeyObjectInput | VerifyKeyObjectInput;

/** The `crypto.sign`/`crypto.verify` key argument for an algorithm: built once per key and algorithm. */
export function keyInput(spec: AlgorithmSpec, keyObject: KeyObject): KeyInput {
  switch (spec.family) {
    case 'RSA':
      return spec.padding === constants.RSA_PKCS1_PSS_PADDING
        ? { key: keyObject, padding: spec.padding, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
        : keyObject;
    case 'EC':
      return { key: keyObject, dsaEncoding: 'ieee-p1363' };
    default:
      return keyObject;
  }
}

/**
 * Expected signature length in bytes for this algorithm and a key of `keyBits` (the RSA modulus length). Taken from
 * the `Key`, not from `keyObject.asymmetricKeyDetails`, which Node rebuilds on every access (a measurable cost on
 * the verify hot path).
 */
export function signatureLength(spec: AlgorithmSpec, keyBits: number): number {
  return spec.signatureLength ?? Math.ceil(keyBits / 8);
}

/** Signs the JWS signing input (ASCII: base64url segments and a dot). */
export function createSignature(
  spec: AlgorithmSpec,
  keyObject: KeyObject,
  input: KeyInput,
  signingInput: string,
): Buffer {
  if (spec.family === 'oct') {
    return createHmac(spec.hash ?? 'sha256', keyObject)
      .update(signingInput, 'latin1')
      .digest();
  }
  return cryptoSign(spec.hash ?? null, Buffer.from(signingInput, 'latin1'), input);
}

/**
 * `createSignature` with an asymmetric operation on libuv's thread pool (`crypto.sign` with a callback): an RSA
 * signature costs about a millisecond, which the event loop then spends serving other requests. HMAC stays inline.
 */
export function createSignatureAsync(
  spec: AlgorithmSpec,
  keyObject: KeyObject,
  input: KeyInput,
  signingInput: string,
): Promise<Buffer> {
  if (spec.family === 'oct') return Promise.resolve(createSignature(spec, keyObject, input, signingInput));
  return new Promise((resolve, reject) => {
    cryptoSign(spec.hash ?? null, Buffer.from(signingInput, 'latin1'), input, (error, signature) =>
      error === null ? resolve(signature) : reject(error),
    );
  });
}

/**
 * Verifies `signature` over the signing input (its ASCII text, or those bytes already written out). The caller has
 * already checked the signature length; HMAC tags are compared with `timingSafeEqual`.
 */
export function verifySignature(
  spec: AlgorithmSpec,
  keyObject: KeyObject,
  input: KeyInput,
  signingInput: string | Uint8Array,
  signature: Uint8Array,
): boolean {
  if (spec.family === 'oct') {
    const hmac = createHmac(spec.hash ?? 'sha256', keyObject);
    const expected = (
      typeof signingInput === 'string' ? hmac.update(signingInput, 'latin1') : hmac.update(signingInput)
    ).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  const data = typeof signingInput === 'string' ? Buffer.from(signingInput, 'latin1') : signingInput;
  try {
    return cryptoVerify(spec.hash ?? null, data, input, signature);
  } catch {
    // OpenSSL refuses some malformed inputs by throwing; for the caller that is simply a bad signature.
    return false;
  }
}

/**
 * `verifySignature` with the asymmetric operation on libuv's thread pool (`crypto.verify` with a callback), so a
 * busy process can use more than one core. HMAC stays synchronous: it costs less than the hop to another thread.
 */
export function verifySignatureAsync(
  spec: AlgorithmSpec,
  keyObject: KeyObject,
  input: KeyInput,
  signingInput: string,
  signature: Buffer,
): Promise<boolean> {
  if (spec.family === 'oct')
    return Promise.resolve(verifySignature(spec, keyObject, input, signingInput, signature));
  return new Promise((resolve) => {
    try {
      cryptoVerify(spec.hash ?? null, Buffer.from(signingInput, 'latin1'), input, signature, (error, ok) =>
        resolve(error === null && ok),
      );
    } catch {
      resolve(false); // as in verifySignature: OpenSSL's refusal of a malformed input is a bad signature
    }
  });
}
