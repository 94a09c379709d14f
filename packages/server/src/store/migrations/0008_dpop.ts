/**
 * Migration 0008: DPoP (RFC 9449). `sessions.dpop_jkt` binds a refresh-token family to a proof key's thumbprint;
 * `dpop_proofs` remembers proof `jti`s for the replay check, one primary-key insert each, so that of several
 * instances seeing one proof exactly one accepts it.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the column and the table. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('sessions').addColumn('dpop_jkt', 'text').execute();
  await db.schema
    .createTable('dpop_proofs')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('dpop_proofs_expires_at').on('dpop_proofs').column('expires_at').execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropTable('dpop_proofs').execute();
  await db.schema.alterTable('sessions').dropColumn('dpop_jkt').execute();
}
