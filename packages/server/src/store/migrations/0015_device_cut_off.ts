/**
 * Migration 0015: `users.devices_valid_after`, the account's device cut-off (services/login-devices.ts): device
 * credentials issued before it are dead, and the known devices of the new-device mail (store/sightings.ts) claimed
 * before it count as new again. Null — every row before this migration, every new account — means it is the account's
 * cut-off, `tokens_valid_after`, as it was until now; so nothing needs filling in, and an instance still running the
 * release before, whose clean-ups move `tokens_valid_after` alone, ends device credentials as it did.
 *
 * The two part when the cut-off is not the owner's or an admin's clean-up: a `failure_burst` answered with `revoke`
 * — others' failed sign-ins — moves `tokens_valid_after` and keeps the device cut-off where it stood (the column
 * takes the old value when it was null), so the owner's device credential outlives the attackers' failures.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the column (null: the account's cut-off). */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('users').addColumn('devices_valid_after', 'bigint').execute();
}

/** Drops it: device credentials die at the account's cut-off again. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('users').dropColumn('devices_valid_after').execute();
}
