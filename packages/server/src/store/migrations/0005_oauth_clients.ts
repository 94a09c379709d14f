/**
 * Migration 0005: the OAuth client registry (RFC 6749 §2), the single-use record of RFC 7523 assertion `jti`s,
 * and the client each session belongs to (every session so far belongs to the first-party client `jot`).
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Creates `oauth_clients` and `assertion_jtis`, and adds `sessions.client_id`. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .createTable('oauth_clients')
    .addColumn('client_id', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('auth_method', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text')
    .addColumn('sealed_secret', 'text')
    .addColumn('jwks', 'text')
    .addColumn('jwks_uri', 'text')
    .addColumn('grant_types', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('scopes', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('audiences', 'text', (c) => c.notNull().defaultTo('[]'))
    .addColumn('token_ttl_ms', 'bigint')
    .addColumn('first_party', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('secret_rotated_at', 'bigint')
    .execute();

  await db.schema
    .createTable('assertion_jtis')
    .addColumn('jti_hash', 'text', (c) => c.primaryKey())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('assertion_jtis_expires_at_idx')
    .on('assertion_jtis')
    .column('expires_at')
    .execute();

  await db.schema
    .alterTable('sessions')
    .addColumn('client_id', 'text', (c) => c.notNull().defaultTo('jot'))
    .execute();
}

/** Drops what {@link up} created. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('client_id').execute();
  await db.schema.dropTable('assertion_jtis').ifExists().execute();
  await db.schema.dropTable('oauth_clients').ifExists().execute();
}
