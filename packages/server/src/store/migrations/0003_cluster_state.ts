/**
 * Migration 0003: `cluster_state`, a few named integers every instance shares through the database —
 * lock rows (a transaction that updates one holds it until commit: a row lock in PostgreSQL, the write lock in
 * SQLite) and the Redis publisher's cursor (the last revocation id published to Redis).
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** The rows the server expects; created here so a lock never has to be inserted under contention. */
export const CLUSTER_STATE_ROWS = ['lock:signing_keys', 'lock:redis_publisher', 'redis:published'] as const;

/** Creates `cluster_state` with its rows. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('cluster_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await (db as Kysely<{ cluster_state: { name: string; value: number } }>)
    .insertInto('cluster_state')
    .values(CLUSTER_STATE_ROWS.map((name) => ({ name, value: 0 })))
    .execute();
}

/** Drops the table. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropTable('cluster_state').execute();
}
