/**
 * The one error family of `@jot/jose`. Every failure caused by a token or key input is a `JoseError` with a stable
 * `code`; callers `switch (err.code)`. Misuse of the API (a missing `algorithms` allow-list, say) is a `TypeError`
 * instead, so a configuration bug is never mistaken for a bad token. Messages never contain token or key material.
 */
import { JOSE_ERROR_CODES, type JoseErrorCode } from '@jot/contract';

/** Every code a `JoseError` can carry (the registry in `@jot/contract`, documented in docs/errors.md). */
export type { JoseErrorCode };

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
export { JOSE_ERROR_CODES };
