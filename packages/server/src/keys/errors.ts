/**
 * The signing-key service's coded error: conditions an operator must act on (a wrong `JOT_KEK`, a damaged key row),
 * raised at start or by the schedule. Messages name the setting to fix and never contain key material.
 */

/** Every code a {@link KeyError} can carry (documented in docs/errors.md). */
export type KeyErrorCode =
  /** A stored signing key was sealed under a different key-encryption key than the configured `JOT_KEK`. */
  | 'ERR_KEK_MISMATCH'
  /** A stored signing key's ciphertext is malformed, was tampered with, or does not match its `kid`/`alg`. */
  | 'ERR_KEY_SEALED_INVALID'
  /** No signing key is active (none stored yet, or every stored key is still pending or retired). */
  | 'ERR_KEY_NO_ACTIVE';

/** All codes, for documentation checks. */
export const KEY_ERROR_CODES: readonly KeyErrorCode[] = [
  'ERR_KEK_MISMATCH',
  'ERR_KEY_SEALED_INVALID',
  'ERR_KEY_NO_ACTIVE',
];

/** A signing-key failure. `kid` says which stored key, when it is about one. */
export class KeyError extends Error {
  override readonly name = 'KeyError';
  readonly code: KeyErrorCode;
  readonly kid: string | undefined;

  constructor(code: KeyErrorCode, message: string, options: { kid?: string; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.code = code;
    this.kid = options.kid;
  }
}
