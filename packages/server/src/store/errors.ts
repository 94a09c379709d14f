/**
 * The store's coded error: the few storage conditions a caller is expected to handle
 * (a duplicate email, a database that is down) as opposed to bugs, which stay raw driver errors.
 */

/** Every code a {@link StoreError} can carry. */
export type StoreErrorCode =
  /** A unique key already exists (e.g. a second user with the same email). */
  | 'ERR_STORE_CONFLICT'
  /** A row refers to a row that does not exist (e.g. a session for an unknown user). */
  | 'ERR_STORE_REFERENCE'
  /** The database refused a value (U+0000 in text, an integer out of range): bad input that got this far. */
  | 'ERR_STORE_BAD_VALUE'
  /** The database cannot be reached, is locked for too long, or cannot be opened or written. */
  | 'ERR_STORE_UNAVAILABLE'
  /** The schema migrations failed when the store was opened. */
  | 'ERR_STORE_MIGRATION'
  /** The store was used after `close()`. */
  | 'ERR_STORE_CLOSED';

/** Every `StoreErrorCode`, for documentation checks. */
export const STORE_ERROR_CODES: readonly StoreErrorCode[] = [
  'ERR_STORE_CONFLICT',
  'ERR_STORE_REFERENCE',
  'ERR_STORE_BAD_VALUE',
  'ERR_STORE_UNAVAILABLE',
  'ERR_STORE_MIGRATION',
  'ERR_STORE_CLOSED',
];

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
