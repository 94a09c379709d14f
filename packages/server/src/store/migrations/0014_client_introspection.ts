/**
 * Migration 0014: which access tokens a client may introspect (RFC 7662 §4), `oauth_clients.introspection`. `own`:
 * those issued to it (`client_id`) or naming it in `aud`; `any`: every one, as a resource server. The column
 * defaults to `own`, what a new registration gets, so a row written without it fails closed. Until now every
 * confidential client could introspect any access token, and resource servers authenticating as clients rely on
 * that: the clients already registered get `any`, and an upgrade changes no answer. Public clients (`none`) keep
 * `own`: they introspect no access token either way.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds `oauth_clients.introspection`, `any` for the confidential clients registered before it. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('introspection', 'text', (c) => c.notNull().defaultTo('own'))
    .execute();
  await sql`UPDATE oauth_clients SET introspection = 'any' WHERE auth_method <> 'none'`.execute(db);
}

/** Drops it. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('introspection').execute();
}
