/**
 * Decrypting nested JWTs: `checkCompactJWE` first (size, algorithms, `zip`, `epk` on the curve, …), then the
 * `jose` package decrypts with the allow-lists pinned, then the plaintext must be a compact JWS whose header has a
 * `typ` (RFC 8725 §3.11: without it, a token of one kind could pass for another). The caller verifies the inner JWS
 * as it would an unencrypted token.
 */
import { JoseError } from '../errors.js';
import { decodeJSONObject } from '../jws/segments.js';
import { JWE_CONTENT_ENCRYPTION, type EncryptionKey } from './encryption-key.js';
import { checkCompactJWE, DEFAULT_MAX_JWE_LENGTH } from './guard.js';
import { loadJose } from './load-jose.js';

/** Options of `decryptJWT`. */
export interface DecryptJWTOptions {
  /** Longer JWEs are refused before decoding. @default 16384 */
  maxLength?: number;
}

/**
 * Decrypts a nested JWT with one of `keys` (private) and returns the inner compact JWS, still to be verified.
 * Throws `JoseError` `ERR_JWE_TOO_LARGE`, `ERR_JWE_INVALID` or `ERR_JWE_DECRYPTION_FAILED`.
 *
 * @example
 * const jws = await decryptJWT(token, [serviceKey]);
 * const { payload } = verifier(jws);
 */
export async function decryptJWT(
  jwe: string,
  keys: readonly EncryptionKey[],
  options: DecryptJWTOptions = {},
): Promise<string> {
  const decrypting = keys.filter((k) => k.type === 'private');
  if (decrypting.length === 0) throw new TypeError('decryptJWT: a private encryption key is required');
  const checked = checkCompactJWE(jwe, decrypting, options.maxLength ?? DEFAULT_MAX_JWE_LENGTH);
  const key = decrypting.find(
    (k) => k.alg === checked.alg && (checked.kid === undefined || checked.kid === k.publicJwk.kid),
  );
  // Outside the try: a package that fails to load is not a token that fails to decrypt.
  const { compactDecrypt } = await loadJose();
  let plaintext: Uint8Array;
  try {
    ({ plaintext } = await compactDecrypt(jwe, key!.keyObject, {
      keyManagementAlgorithms: [checked.alg],
      contentEncryptionAlgorithms: [JWE_CONTENT_ENCRYPTION],
      maxPBES2Count: 1,
    }));
  } catch {
    // One answer for every failure (padding, key unwrap, tag): no oracle for an attacker to learn from.
    throw new JoseError('ERR_JWE_DECRYPTION_FAILED', 'the encrypted token could not be decrypted', {
      reason: 'decrypt',
    });
  }
  const jws = new TextDecoder('utf-8', { fatal: false }).decode(plaintext);
  const parts = jws.split('.');
  if (parts.length !== 3)
    throw new JoseError('ERR_JWE_INVALID', 'the encrypted token does not hold a JWS', { reason: 'nested' });
  let inner: Record<string, unknown>;
  try {
    inner = decodeJSONObject(parts[0] as string, 'inner JWS header', 'ERR_JWE_INVALID');
  } catch {
    throw new JoseError('ERR_JWE_INVALID', 'the encrypted token does not hold a JWS', { reason: 'nested' });
  }
  if (typeof inner.typ !== 'string' || inner.typ.length === 0) {
    throw new JoseError('ERR_JWE_INVALID', 'the inner JWS must say what it is ("typ")', {
      reason: 'typ',
      claim: 'typ',
    });
  }
  return jws;
}
