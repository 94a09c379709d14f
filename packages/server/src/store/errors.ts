/**
 * The store's coded error: the few storage conditions a caller is expected to handle
 * (a duplicate email, a database that is down) as opposed to bugs, which stay raw driver errors.
 */

import { STORE_ERROR_CODES, type StoreErrorCode } from '@jot/contract';

/** Every code a {@link StoreError} can carry, and the list of them (the registry in `@jot/contract`). */
export { STORE_ERROR_CODES, type StoreErrorCode };

/**
 * A storage failure the caller may act on; the driver's error is kept in `cause` for logs.
 * Messages never contain row data (emails, hashes), only what kind of thing failed.
 */
export class StoreError extends Error {
  override readonly name = 'StoreError';
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
