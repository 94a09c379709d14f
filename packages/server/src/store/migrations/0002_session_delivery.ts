/**
 * Migration 0002: how a session's tokens reach the client (`bearer` in the body, `cookie` in HttpOnly cookies, or
 * `memory`: access token in the body, refresh token in a cookie), so refreshes answer in the same form.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds `sessions.delivery`, defaulting existing sessions to `bearer`. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('sessions')
    .addColumn('delivery', 'text', (c) => c.notNull().defaultTo('bearer'))
    .execute();
}

/** Drops the column. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('sessions').dropColumn('delivery').execute();
}
