/**
 * Migration 0009: single-token renewal. `token_renewals` remembers, per renewed access token (`jti`, hashed), the
 * successor it was renewed into — sealed under a key derived from the renewed token, so only its holder can be
 * handed the same successor again within the grace window — and when. One primary-key insert claims a token, so
 * of several instances renewing it at once exactly one signs the successor the others return. Rows live until the
 * renewed token expires; `one_time_tokens` gains the index its pruning needs.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the table and the indexes. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('token_renewals')
    .addColumn('token_hash', 'text', (c) => c.primaryKey())
    .addColumn('session_id', 'text', (c) => c.notNull().references('sessions.id').onDelete('cascade'))
    .addColumn('successor_hash', 'text', (c) => c.notNull())
    .addColumn('successor_ciphertext', 'text', (c) => c.notNull())
    .addColumn('renewed_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('token_renewals_expires_at')
    .on('token_renewals')
    .column('expires_at')
    .execute();
  await db.schema
    .createIndex('token_renewals_session_id')
    .on('token_renewals')
    .column('session_id')
    .execute();
  await db.schema
    .createIndex('one_time_tokens_expires_at')
    .on('one_time_tokens')
    .column('expires_at')
    .execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('one_time_tokens_expires_at').execute();
  await db.schema.dropTable('token_renewals').execute();
}
