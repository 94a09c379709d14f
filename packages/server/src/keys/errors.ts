/**
 * The signing-key service's coded error: conditions an operator must act on (a wrong `JOT_KEK`, a damaged key row),
 * raised at start or by the schedule. Messages name the setting to fix and never contain key material.
 */

import { KEY_ERROR_CODES, type KeyErrorCode } from '@jot/contract';

/** Every code a {@link KeyError} can carry, and the list of them (the registry in `@jot/contract`). */
export { KEY_ERROR_CODES, type KeyErrorCode };

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
