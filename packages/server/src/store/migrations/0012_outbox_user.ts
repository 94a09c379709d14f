/**
 * Migration 0012: `mail_outbox.user_id`, the account a message is about (null for mail to no account: an
 * invitation). Deleting an account deletes its messages by this column — also those to a former address, to a
 * pending new one, or to an address spelled differently from its comparison key — instead of by the current
 * address alone. Not a foreign key: the delete is explicit, and an enqueue racing it must not fail the request that
 * sends. Rows queued before this migration have none; deletion still finds those by address.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the column and its index. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('mail_outbox').addColumn('user_id', 'text').execute();
  await db.schema.createIndex('mail_outbox_user_idx').on('mail_outbox').column('user_id').execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('mail_outbox_user_idx').execute();
  await db.schema.alterTable('mail_outbox').dropColumn('user_id').execute();
}
