/**
 * The Postgres side of the store: a pg Pool that returns BIGINT columns (our epoch-ms times and
 * identity ids) as JavaScript numbers, optionally pinned to one schema.
 */
import pg from 'pg';
import { PostgresDialect } from 'kysely';
import type { Dialect } from 'kysely';
import type { StoreLogger } from './logger.js';
import { namingPool } from './named-statements.js';

/** OID of INT8/BIGINT; pg returns it as a string by default because it can exceed 2^53. */
const INT8_OID = 20;
/** How long a request waits for a new database connection before failing with 503. */
const CONNECT_TIMEOUT_MS = 5_000;

/** The LISTEN/NOTIFY channel of one Jot database (per schema, so stores in other schemas stay apart). */
export function changeChannel(schema: string | undefined): string {
  return schema === undefined ? 'jot_changes' : `jot_changes_${schema}`;
}

/** Options for {@link createPostgresDialect}. */
export interface PostgresOptions {
  /** Schema to use for every table (sets `search_path`); must already exist. Default: the server's default. */
  schema?: string;
  /** Maximum pool size. @default 10 */
  poolMax?: number;
  /**
   * Send the hot statements as named prepared statements (named-statements.ts). Off for a pooler that cannot hold
   * them (PgBouncer before 1.21 in transaction mode). @default true
   */
  namedStatements?: boolean;
}

const builtinParser: (oid: number, format?: 'text' | 'binary') => unknown = pg.types.getTypeParser;

function parseInt8(value: string): number {
  const n = Number(value);
  // Epoch ms and ids stay far below 2^53; anything larger is corrupt data, not something to round.
  if (!Number.isSafeInteger(n)) throw new RangeError('BIGINT value exceeds Number.MAX_SAFE_INTEGER');
  return n;
}

/** A Kysely dialect over a pg Pool for `connectionString`. */
export function createPostgresDialect(
  connectionString: string,
  options: PostgresOptions = {},
  logger?: StoreLogger,
): Dialect {
  const { schema, poolMax = 10, namedStatements = true } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/i.test(schema)) {
    throw new TypeError('postgres schema must be a plain identifier');
  }
  const pool = new pg.Pool({
    connectionString,
    max: poolMax,
    // A database that does not answer fails the request (503) instead of holding it; dead peers are noticed.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    keepAlive: true,
    ...(schema === undefined ? {} : { options: `-c search_path=${schema}` }),
    // Per pool, not pg.types.setTypeParser: that would change every pg user in the process.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary'): unknown =>
        oid === INT8_OID && format !== 'binary' ? parseInt8 : builtinParser(oid, format),
    },
  });
  // Without a listener an idle client's network error would crash the process.
  pool.on('error', (err) => logger?.warn(`postgres idle client error: ${err.message}`));
  // Nor may a checked-out one's: Kysely holds a client for a whole transaction, and a backend terminated between
  // two statements emits 'error' on it with nobody listening. The statement in flight (or the next) rejects, the
  // transaction is rolled back by the server, and pg-pool discards the broken client on release.
  pool.on('connect', (client) => {
    client.on('error', (err) => logger?.warn(`postgres connection lost: ${err.message}`));
  });
  // The hot statements go by name, parsed and planned once per connection (named-statements.ts), unless the
  // operator's pooler cannot hold prepared statements.
  return new PostgresDialect({ pool: namedStatements ? namingPool(pool) : pool });
}
