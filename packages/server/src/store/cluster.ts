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

export async function takeLock(db: Db, name: ClusterStateName): Promise<void> {
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
