/**
 * The Postgres side of the store: a pg Pool that returns BIGINT columns (our epoch-ms times and
 * identity ids) as JavaScript numbers, optionally pinned to one schema.
 */
import pg from 'pg';
import { PostgresDialect } from 'kysely';
import type { Dialect } from 'kysely';
import { LOCK_IDLE_LIMIT } from './cluster.js';
import type { StoreLogger } from './logger.js';
import { namingPool } from './named-statements.js';
import { withOwnSchemaIntrospection } from './own-schema-introspector.js';

/** OID of INT8/BIGINT; pg returns it as a string by default because it can exceed 2^53. */
const INT8_OID = 20;
/** How long a request waits for a new database connection before failing with 503. */
export const CONNECT_TIMEOUT_MS = 5_000;
/**
 * TCP keepalive's first probe after this much silence (pool and LISTEN connections), so a peer that vanished (a
 * failover, a dropped network) is noticed within about a minute, not after the kernel's default two hours.
 */
export const KEEPALIVE_DELAY_MS = 10_000;

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

/**
 * A session left idle inside a transaction for `LOCK_IDLE_LIMIT` is ended by PostgreSQL: an instance that froze or
 * lost the network mid-transaction (holding the revocations table lock, say) frees its locks within that time
 * instead of blocking every other instance until TCP gives up. Sent as a SET on each new connection (queued before
 * any statement of the pool's), not as a startup parameter, which PgBouncer would refuse.
 */
function limitIdleInTransaction(client: pg.PoolClient, logger: StoreLogger | undefined): void {
  client
    .query(`SET idle_in_transaction_session_timeout = '${LOCK_IDLE_LIMIT}'`)
    .catch((err: unknown) =>
      logger?.warn(`postgres: idle_in_transaction_session_timeout not set: ${String(err)}`),
    );
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
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
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
    limitIdleInTransaction(client, logger);
  });
  // The hot statements go by name, parsed and planned once per connection (named-statements.ts), unless the
  // operator's pooler cannot hold prepared statements.
  return withOwnSchemaIntrospection(new PostgresDialect({ pool: namedStatements ? namingPool(pool) : pool }));
}
