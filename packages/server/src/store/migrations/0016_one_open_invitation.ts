/**
 * Migration 0016: one open invitation per address ([accounts.md](../../../../../docs/accounts.md#invitations)) held
 * by the schema. A partial unique index on `invitations.email` over the rows neither accepted nor revoked: a new
 * invitation replaces (revokes) the address's open one in its transaction, and two created at the same instant — on
 * any instance — can no longer both stay open (the store also queues them per address, `store/invitations.ts`, so
 * each replaces the one before instead of failing). Expired rows that nobody revoked count as open here; creating
 * the next invitation revokes them too. Partial indexes work on SQLite and PostgreSQL alike.
 *
 * Before this, the race could leave several open invitations to one address, and the index cannot be built over
 * them, so they go first: the address's open invitation created LAST stays (ties: the largest id), as the next
 * creation would have left it, and the others are revoked at its creation time. Open invitations stored before
 * addresses were compared by their key (migration 0004; they were only trimmed and lowercased) get the key first, so
 * the index is per address as the store compares them; one whose address no longer normalises keeps its form.
 */
import type { Kysely } from 'kysely';
import { sql } from 'kysely';

import { emailKey } from '../email.js';
import type { DialectName } from '../schema.js';

const ONE_OPEN_INDEX = 'invitations_one_open_idx';

type Invitations = Kysely<{
  invitations: { id: string; email: string; accepted_at: number | null; revoked_at: number | null };
}>;

/** Gives the open invitations stored with a bare lowercased address the address's comparison key. */
async function keyOpenAddresses(db: Invitations): Promise<void> {
  const rows = await db
    .selectFrom('invitations')
    .select(['id', 'email'])
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
  for (const row of rows) {
    let key: string;
    try {
      key = emailKey(row.email);
    } catch {
      continue;
    }
    if (key !== row.email) {
      await db.updateTable('invitations').set({ email: key }).where('id', '=', row.id).execute();
    }
  }
}

/** Revokes every open invitation that has a later-created open one to the same address. */
async function revokeReplaced(db: Kysely<unknown>): Promise<void> {
  await sql`
    UPDATE invitations
    SET revoked_at = (
      SELECT max(kept.created_at) FROM invitations AS kept
      WHERE kept.email = invitations.email AND kept.accepted_at IS NULL AND kept.revoked_at IS NULL)
    WHERE accepted_at IS NULL AND revoked_at IS NULL AND EXISTS (
      SELECT 1 FROM invitations AS kept
      WHERE kept.email = invitations.email AND kept.accepted_at IS NULL AND kept.revoked_at IS NULL
        AND (kept.created_at > invitations.created_at
          OR (kept.created_at = invitations.created_at AND kept.id > invitations.id)))
  `.execute(db);
}

/** Keys the open invitations' addresses, revokes the replaced ones, then adds the index. */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await keyOpenAddresses(db as unknown as Invitations);
  await revokeReplaced(db);
  await db.schema
    .createIndex(ONE_OPEN_INDEX)
    .unique()
    .on('invitations')
    .column('email')
    .where(sql.ref('accepted_at'), 'is', null)
    .where(sql.ref('revoked_at'), 'is', null)
    .execute();
}

/** Drops the index (the revoked duplicates stay revoked, the keyed addresses keyed). */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex(ONE_OPEN_INDEX).ifExists().execute();
}
