/**
 * Migration 0011: the refresh's rotation count (the `refresh_anomaly` theft signal: a session's rotations within one
 * access-token lifetime) reads `refresh_tokens` by `(session_id, rotated_at)`, so it visits only the rotations in the
 * window instead of the session's whole chain, however long the session lives. The index replaces the one on
 * `session_id` alone: its first column serves every lookup that one did (a session's tokens, the cascade from
 * `sessions`), so a rotation maintains as many indexes as before. `IF NOT EXISTS`: an operator with a very large
 * PostgreSQL table may build the index beforehand with `CREATE INDEX CONCURRENTLY` (docs/deploy.md), without
 * blocking writes; the migration then only drops the old one.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the index on `(session_id, rotated_at)` and drops the one on `session_id`. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createIndex('refresh_tokens_session_rotated_idx')
    .ifNotExists()
    .on('refresh_tokens')
    .columns(['session_id', 'rotated_at'])
    .execute();
  await db.schema.dropIndex('refresh_tokens_session_id_idx').ifExists().execute();
}

/** Puts the index on `session_id` back. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createIndex('refresh_tokens_session_id_idx')
    .on('refresh_tokens')
    .column('session_id')
    .execute();
  await db.schema.dropIndex('refresh_tokens_session_rotated_idx').execute();
}
