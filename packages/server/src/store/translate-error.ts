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
/**
 * The server answered and refused us: class 28 (invalid authorization: a role that does not exist, a wrong password,
 * no user name) and 3D000 (the database named in the URL does not exist). A configuration to fix, not an outage.
 */
const PG_REFUSED = /^(28...|3D000)$/;
const SQLITE_UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|CANTOPEN|READONLY|IOERR|FULL|NOTADB|CORRUPT)/;

function codeOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null || !('code' in err)) return undefined;
  return typeof err.code === 'string' ? err.code : undefined;
}

/**
 * The driver's own words for `err`, for the operator: PostgreSQL's message and SQLSTATE (`role "x" does not exist
 * (SQLSTATE 28000)`), or the network error (`connect ECONNREFUSED 127.0.0.1:5432`; the attempts of an
 * `AggregateError` when a host name resolved to several addresses). Neither the driver nor PostgreSQL puts a password
 * into these messages.
 */
export function describeCause(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = codeOf(err);
  const message =
    err.message !== '' || !(err instanceof AggregateError)
      ? err.message
      : err.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join('; ');
  // A PostgreSQL error carries a five-character SQLSTATE; a Node.js network error names its code in its message.
  return code !== undefined && /^[0-9A-Z]{5}$/.test(code) && !message.includes(code)
    ? `${message} (SQLSTATE ${code})`
    : message;
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
  if (code !== undefined && PG_REFUSED.test(code)) {
    return new StoreError('ERR_STORE_REFUSED', `the database refused the connection: ${describeCause(err)}`, {
      cause: err,
    });
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
    return new StoreError('ERR_STORE_UNAVAILABLE', `the database is unavailable: ${describeCause(err)}`, {
      cause: err,
    });
  }
  return err;
}
