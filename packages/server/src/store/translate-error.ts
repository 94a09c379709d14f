/**
 * Maps better-sqlite3 and pg driver errors onto {@link StoreError} codes, so no caller ever
 * has to know which database is underneath to tell a duplicate key from an outage.
 */
import { StoreError } from './errors.js';

/** SQLSTATE classes/codes: https://www.postgresql.org/docs/current/errcodes-appendix.html */
// 57P0x: the backend was terminated or the server is shutting down; 53xxx: out of resources; 40001/40P01: a
// serialization failure or deadlock (the transaction was rolled back; a retry may succeed); 55P03: a lock not
// granted within `lock_timeout`; 25P03: the session was ended for idling in its transaction.
const PG_UNAVAILABLE = new Set([
  '57P01',
  '57P02',
  '57P03',
  '53300',
  '53100',
  '53200',
  '40001',
  '40P01',
  '55P03',
  '25P03',
]);
const NET_UNAVAILABLE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);
/**
 * Data exceptions (class 22) caused by a value: U+0000 or bad UTF-8 in text, a number out of range, a string
 * that is not a valid value of the column's type, a string too long. SQLite: a non-integer where one is needed.
 */
const INVALID_INPUT = new Set([
  '22021',
  '22P05',
  '22003',
  '22P02',
  '22001',
  'SQLITE_MISMATCH',
  'SQLITE_TOOBIG',
]);
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|READONLY|IOERR|FULL|NOTADB|CORRUPT)/;

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/**
 * Returns a {@link StoreError} for a recognised driver condition, or the error itself otherwise
 * (unrecognised errors are bugs and keep their original stack).
 */
export function translateError(err: unknown): unknown {
  if (err instanceof StoreError) return err;
  const code = codeOf(err);
  if (code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') {
    return new StoreError('ERR_STORE_CONFLICT', 'a row with the same unique key already exists', {
      cause: err,
    });
  }
  if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY') {
    return new StoreError('ERR_STORE_REFERENCE', 'the referenced row does not exist', { cause: err });
  }
  if (code !== undefined && INVALID_INPUT.has(code)) {
    return new StoreError('ERR_STORE_BAD_VALUE', 'the database refused a value as invalid', { cause: err });
  }
  if (
    (code !== undefined &&
      (NET_UNAVAILABLE.has(code) ||
        PG_UNAVAILABLE.has(code) ||
        code.startsWith('08') ||
        SQLITE_UNAVAILABLE.test(code))) ||
    (err instanceof Error &&
      /Connection terminated|timeout exceeded when trying to connect|not queryable|Client was closed/i.test(
        err.message,
      ))
  ) {
    return new StoreError('ERR_STORE_UNAVAILABLE', 'the database is unavailable', { cause: err });
  }
  return err;
}
