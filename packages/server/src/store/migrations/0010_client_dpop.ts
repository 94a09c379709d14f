/**
 * Migration 0010: the per-client DPoP policy (RFC 9449 §5.2 `dpop_bound_access_tokens`). `optional` (every client
 * so far): a proof at the token endpoint binds what is issued; `required`: a token request without one is refused.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds `oauth_clients.dpop_policy`. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('oauth_clients')
    .addColumn('dpop_policy', 'text', (c) => c.notNull().defaultTo('optional'))
    .execute();
}

/** Drops it. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('oauth_clients').dropColumn('dpop_policy').execute();
}
