/**
 * Queries on `cluster_state`: lock rows and shared cursors, and PostgreSQL notifications. The lock is a plain
 * UPDATE of the lock's row as a transaction's first statement: it holds a row lock until commit in PostgreSQL, and
 * SQLite's single write lock (waiting up to the busy timeout), so whatever the transaction reads next is current
 * and no other instance can act on the same state until it commits.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

import type { DialectName, Schema } from './schema.js';

type Db = Kysely<Schema>;

/** The names a lock or cursor row may have (created by migration 0003). */
export type ClusterStateName = 'lock:signing_keys' | 'lock:redis_publisher' | 'redis:published';

/**
 * How long a transaction waits for a lock row another holds before failing (PostgreSQL's `lock_timeout`, mapped to
 * `ERR_STORE_UNAVAILABLE`): an emergency key rotation answers 503 instead of hanging behind a stuck holder.
 */
export const LOCK_WAIT_LIMIT = '10s';
/**
 * How long a lock holder may sit idle inside its transaction before PostgreSQL ends its session and so frees the
 * lock (`idle_in_transaction_session_timeout`): an instance that froze or lost the network while holding it would
 * otherwise keep every other instance's key schedule waiting until TCP keepalive gave up, hours later.
 */
export const LOCK_IDLE_LIMIT = '30s';

/**
 * Bounds, for the rest of the current PostgreSQL transaction, how long it waits for a lock (`LOCK_WAIT_LIMIT`) and
 * how long it may idle while holding one (`LOCK_IDLE_LIMIT`). Every transaction that takes one of Jot's own locks
 * (a `cluster_state` row, an advisory lock) calls it first.
 */
export async function limitLockWaits(db: Db): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${LOCK_WAIT_LIMIT}, true),
    set_config('idle_in_transaction_session_timeout', ${LOCK_IDLE_LIMIT}, true)`.execute(db);
}

export async function takeLock(db: Db, dialect: DialectName, name: ClusterStateName): Promise<void> {
  if (dialect === 'postgres') await limitLockWaits(db);
  const result = await db
    .updateTable('cluster_state')
    .set((eb) => ({ value: eb('value', '+', 1) }))
    .where('name', '=', name)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== 1) throw new Error(`cluster_state row ${name} is missing`);
}

export async function getValue(db: Db, name: ClusterStateName): Promise<number> {
  const row = await db
    .selectFrom('cluster_state')
    .select('value')
    .where('name', '=', name)
    .executeTakeFirst();
  return Number(row?.value ?? 0);
}

/** Raises the value to `value` if it is lower (never moves it back); returns the value now stored. */
export async function advanceValue(db: Db, name: ClusterStateName, value: number): Promise<number> {
  await db
    .updateTable('cluster_state')
    .set({ value })
    .where('name', '=', name)
    .where('value', '<', value)
    .execute();
  return getValue(db, name);
}

/**
 * Sends `payload` on the PostgreSQL channel (delivered to every listener when the surrounding transaction commits,
 * never before: a woken listener always sees the change). A no-op on SQLite.
 */
export async function notify(db: Db, dialect: DialectName, channel: string, payload: string): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`SELECT pg_notify(${channel}, ${payload})`.execute(db);
}
