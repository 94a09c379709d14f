/**
 * The one error family of `@jot/jose`. Every failure caused by a token or key input is a `JoseError` with a stable
 * `code`; callers `switch (err.code)`. Misuse of the API (a missing `algorithms` allow-list, say) is a `TypeError`
 * instead, so a configuration bug is never mistaken for a bad token. Messages never contain token or key material.
 */

/** Every code a `JoseError` can carry. Documented in docs/errors.md. */
export type JoseErrorCode =
  /** The compact serialization is malformed: parts, base64url, JSON, or a header parameter of the wrong type. */
  | 'ERR_JWS_INVALID'
  /** The token is longer than the configured `maxTokenLength`. */
  | 'ERR_JWS_TOO_LARGE'
  /** The header asks for something Jot deliberately does not implement (`crit` extensions, `b64: false`). */
  | 'ERR_JWS_UNSUPPORTED'
  /** The signature does not verify with the selected key. */
  | 'ERR_JWS_SIGNATURE_INVALID'
  /** The payload is not a JSON object. */
  | 'ERR_JWT_INVALID'
  /** `exp` (or `iat` + `maxTokenAge`) is in the past. */
  | 'ERR_JWT_EXPIRED'
  /** `nbf` is in the future. */
  | 'ERR_JWT_NOT_YET_VALID'
  /** A claim (or the `typ` header) is missing, of the wrong type, or does not match what was required. See `claim`. */
  | 'ERR_JWT_CLAIM_INVALID'
  /** The `alg` is missing, `none`, or not in the allow-list. */
  | 'ERR_JOSE_ALG_NOT_ALLOWED'
  /** The key was made for another algorithm family (an RSA key offered for HS256, say). */
  | 'ERR_JOSE_KEY_MISMATCH'
  /** No key in the key set matches the token's `kid`/`alg`. */
  | 'ERR_JWKS_NO_MATCHING_KEY'
  /** The token has no `kid` and more than one key in the set could verify it. */
  | 'ERR_JWKS_MULTIPLE_MATCHING_KEYS'
  /** A key could not be imported: malformed JWK/PEM, unsupported type or curve, or a key that is too weak. */
  | 'ERR_KEY_INVALID'
  /** A DPoP proof (RFC 9449 §4.3) failed a check; `reason` says which (`htm`, `htu`, `ath`, `stale`, …). */
  | 'ERR_DPOP_PROOF_INVALID'
  /** A DPoP proof was needed (a DPoP-bound token or session, or a policy) and none was sent. */
  | 'ERR_DPOP_REQUIRED'
  /** The DPoP proof key is not the key the token or refresh-token family is bound to (`cnf.jkt`). */
  | 'ERR_DPOP_KEY_MISMATCH'
  /** The DPoP proof's `jti` was seen before within the replay window. */
  | 'ERR_DPOP_PROOF_REPLAYED'
  /** The server wants a current nonce of its own in the proof (`use_dpop_nonce`, RFC 9449 §8–9). */
  | 'ERR_DPOP_NONCE_REQUIRED'
  /** A compact JWE was refused before decryption: shape, algorithm, `zip`, `crit`, `cty`, `epk`, `p2c`, lengths. */
  | 'ERR_JWE_INVALID'
  /** The encrypted token is longer than `maxLength`, checked before any decoding. */
  | 'ERR_JWE_TOO_LARGE'
  /** Decryption failed (wrong key, tampered ciphertext or tag); one answer for every cause. */
  | 'ERR_JWE_DECRYPTION_FAILED';

/** Extra, machine-readable facts about a failure. */
export interface JoseErrorDetails {
  /** The claim or header parameter the failure is about (`exp`, `aud`, `typ`, `alg`, …). */
  readonly claim?: string;
  /** A short stable reason within the code (`missing`, `type`, `mismatch`, …). */
  readonly reason?: string;
}

/** The error thrown for any bad token or key. */
export class JoseError extends Error {
  override readonly name = 'JoseError';
  readonly code: JoseErrorCode;
  readonly claim: string | undefined;
  readonly reason: string | undefined;

  constructor(code: JoseErrorCode, message: string, details?: JoseErrorDetails) {
    super(message);
    this.code = code;
    this.claim = details?.claim;
    this.reason = details?.reason;
  }
}

/** Narrows an unknown caught value to a `JoseError`, optionally of one code. */
export function isJoseError(value: unknown, code?: JoseErrorCode): value is JoseError {
  return value instanceof JoseError && (code === undefined || value.code === code);
}

/** Every code, for documentation checks and exhaustive switches. */
export const JOSE_ERROR_CODES: readonly JoseErrorCode[] = [
  'ERR_JWS_INVALID',
  'ERR_JWS_TOO_LARGE',
  'ERR_JWS_UNSUPPORTED',
  'ERR_JWS_SIGNATURE_INVALID',
  'ERR_JWT_INVALID',
  'ERR_JWT_EXPIRED',
  'ERR_JWT_NOT_YET_VALID',
  'ERR_JWT_CLAIM_INVALID',
  'ERR_JOSE_ALG_NOT_ALLOWED',
  'ERR_JOSE_KEY_MISMATCH',
  'ERR_JWKS_NO_MATCHING_KEY',
  'ERR_JWKS_MULTIPLE_MATCHING_KEYS',
  'ERR_KEY_INVALID',
  'ERR_DPOP_PROOF_INVALID',
  'ERR_DPOP_REQUIRED',
  'ERR_DPOP_KEY_MISMATCH',
  'ERR_DPOP_PROOF_REPLAYED',
  'ERR_DPOP_NONCE_REQUIRED',
  'ERR_JWE_INVALID',
  'ERR_JWE_TOO_LARGE',
  'ERR_JWE_DECRYPTION_FAILED',
];
