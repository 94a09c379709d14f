/**
 * Migration 0013: one authenticator app per account ([mfa.md](../../../../../docs/mfa.md#enrolment)) held by the
 * schema. Two partial unique indexes on `mfa_factors.user_id`: one over confirmed TOTP factors (so a confirmation
 * racing another, on any instance, fails with a unique violation instead of adding a second app) and one over
 * pending TOTP factors (each enrolment started replaces the pending one). Partial indexes work on SQLite and
 * PostgreSQL alike.
 *
 * Before this, concurrent enrolments could leave several confirmed TOTP factors on one account, and the index cannot
 * be built over them, so the duplicates go first, deterministically: of a user's confirmed TOTP factors the one
 * confirmed EARLIEST stays (ties: the one created earliest, then the smallest id) and the others are deleted; of a
 * user's pending ones the one created LATEST stays (the enrolment started last, as `startTotp` would have left it).
 * Deleting a factor deletes its used time steps (`ON DELETE CASCADE`). The account keeps a confirmed factor, so its
 * recovery codes stay valid; passkeys are untouched.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import type { DialectName } from '../schema.js';

const CONFIRMED_INDEX = 'mfa_factors_one_confirmed_totp_idx';
const PENDING_INDEX = 'mfa_factors_one_pending_totp_idx';

/** Deletes every confirmed TOTP factor that has an earlier-confirmed one of the same user. */
async function deleteLaterConfirmed(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM mfa_factors
    WHERE kind = 'totp' AND confirmed_at IS NOT NULL AND EXISTS (
      SELECT 1 FROM mfa_factors AS kept
      WHERE kept.user_id = mfa_factors.user_id AND kept.kind = 'totp' AND kept.confirmed_at IS NOT NULL
        AND (kept.confirmed_at < mfa_factors.confirmed_at
          OR (kept.confirmed_at = mfa_factors.confirmed_at AND (kept.created_at < mfa_factors.created_at
            OR (kept.created_at = mfa_factors.created_at AND kept.id < mfa_factors.id)))))
  `.execute(db);
}

/** Deletes every pending TOTP factor that has a later-started pending one of the same user. */
async function deleteEarlierPending(db: Kysely<unknown>): Promise<void> {
  await sql`
    DELETE FROM mfa_factors
    WHERE kind = 'totp' AND confirmed_at IS NULL AND EXISTS (
      SELECT 1 FROM mfa_factors AS kept
      WHERE kept.user_id = mfa_factors.user_id AND kept.kind = 'totp' AND kept.confirmed_at IS NULL
        AND (kept.created_at > mfa_factors.created_at
          OR (kept.created_at = mfa_factors.created_at AND kept.id > mfa_factors.id)))
  `.execute(db);
}

/** Removes the duplicates, then adds the two indexes. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await deleteLaterConfirmed(db);
  await deleteEarlierPending(db);
  await db.schema
    .createIndex(CONFIRMED_INDEX)
    .unique()
    .on('mfa_factors')
    .column('user_id')
    .where(sql.ref('kind'), '=', 'totp')
    .where(sql.ref('confirmed_at'), 'is not', null)
    .execute();
  await db.schema
    .createIndex(PENDING_INDEX)
    .unique()
    .on('mfa_factors')
    .column('user_id')
    .where(sql.ref('kind'), '=', 'totp')
    .where(sql.ref('confirmed_at'), 'is', null)
    .execute();
}

/** Drops the indexes (the deleted duplicates stay deleted). */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex(PENDING_INDEX).ifExists().execute();
  await db.schema.dropIndex(CONFIRMED_INDEX).ifExists().execute();
}
