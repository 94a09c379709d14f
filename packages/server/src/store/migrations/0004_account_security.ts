/**
 * Migration 0004: account security.
 * - `users.email_key`: the comparison form of the email (see ../email.ts), unique; `users.email` keeps the display form.
 * - `users.credential_generation` / `sessions.credential_generation`: a session is valid only while it carries the
 *   user's current generation, which every password change, logout-everywhere and disable increments.
 * - `users.created_via`: who created the account (`register`, `admin`, `cli`, `bootstrap`, …), so the bootstrap admin
 *   never promotes an account it did not create.
 * - `login_throttles`: failed sign-ins per account (across addresses), for exponential back-off and lockout.
 */
import type { Kysely } from 'kysely';

import { emailKey } from '../email.js';
import type { DialectName } from '../schema.js';

/** Adds the columns and the table, and fills `email_key` for existing accounts. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('email_key', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('credential_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('users')
    .addColumn('created_via', 'text', (c) => c.notNull().defaultTo('unknown'))
    .execute();
  await db.schema
    .alterTable('sessions')
    .addColumn('credential_generation', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  const typed = db as unknown as Kysely<{ users: { id: string; email: string; email_key: string } }>;
  const rows = await typed.selectFrom('users').select(['id', 'email']).execute();
  for (const row of rows) {
    // Existing addresses were stored trimmed and lowercased; a legacy address that no longer normalises keeps its
    // lowercased form as its key rather than failing the migration.
    let key: string;
    try {
      key = emailKey(row.email);
    } catch {
      key = row.email;
    }
    await typed.updateTable('users').set({ email_key: key }).where('id', '=', row.id).execute();
  }
  await db.schema.createIndex('users_email_key_idx').on('users').column('email_key').unique().execute();
  await db.schema
    .createTable('login_throttles')
    .addColumn('account_key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

/** Drops what {@link up} added. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropTable('login_throttles').ifExists().execute();
  await db.schema.dropIndex('users_email_key_idx').ifExists().execute();
  await db.schema.alterTable('sessions').dropColumn('credential_generation').execute();
  for (const column of ['created_via', 'credential_generation', 'email_key']) {
    await db.schema.alterTable('users').dropColumn(column).execute();
  }
}
