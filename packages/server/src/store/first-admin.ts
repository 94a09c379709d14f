/**
 * The first-registrant admin claim: outside production (and without JOT_ADMIN_EMAIL) the first account registered
 * becomes an admin, once, whichever instance registers it. The claim is a `one_time_tokens` row with a fixed key
 * (`bootstrap-admin`) that is never consumed nor expires: it is what "an account was made admin for being first"
 * means, so the decision holds even after the accounts are reordered (commit order can differ from `created_at`).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';

import { limitLockWaits } from './cluster.js';
import { insertOneTimeToken } from './one-time-tokens.js';
import type { DialectName, Schema } from './schema.js';
import { inTransaction } from './transaction.js';
import { listUsers } from './users.js';

type Db = Kysely<Schema>;

/** The claim's fixed key (the row's primary key: only one can ever exist). */
export const FIRST_ADMIN_CLAIM = 'bootstrap-admin';
const CLAIM_PURPOSE = 'bootstrap_admin';
/**
 * The PostgreSQL advisory lock's key, before the schema's name: advisory locks are database-wide, so deployments in
 * other schemas of the same database queue for their own claims, not this one's.
 */
export const FIRST_ADMIN_LOCK = 'jot.first-admin:';

/**
 * Claims the first-registrant admin grant for `userId` in the caller's transaction: true (the claim written) when
 * no account claimed it before and `userId` is the oldest account (`created_at`, then id). The transaction first
 * queues behind any other claim, across instances — a transaction-scoped advisory lock on PostgreSQL keyed by the
 * schema (bounded by `limitLockWaits`; `hashtextextended` needs PostgreSQL 11), SQLite's write lock (a no-op
 * UPDATE of the user's row) — so it reads what an earlier claim committed, and of simultaneous first registrations
 * exactly one is granted (the others: false, not a conflict on the claim's key).
 */
export async function claimFirstAdmin(
  db: Db,
  dialect: DialectName,
  userId: string,
  now: number,
): Promise<boolean> {
  return inTransaction(db, async (tx) => {
    if (dialect === 'postgres') {
      await limitLockWaits(tx);
      const key = sql`${FIRST_ADMIN_LOCK}::text || current_schema()::text`;
      await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(tx);
    } else {
      await tx
        .updateTable('users')
        .set((eb) => ({ updated_at: eb.ref('updated_at') }))
        .where('id', '=', userId)
        .execute();
    }
    const claimed = await tx
      .selectFrom('one_time_tokens')
      .select('user_id')
      .where('token_hash', '=', FIRST_ADMIN_CLAIM)
      .executeTakeFirst();
    if (claimed !== undefined) return false;
    const [first] = await listUsers(tx, 1, 0);
    if (first?.id !== userId) return false;
    await insertOneTimeToken(
      tx,
      { tokenHash: FIRST_ADMIN_CLAIM, purpose: CLAIM_PURPOSE, userId, expiresAt: Number.MAX_SAFE_INTEGER },
      now,
    );
    return true;
  });
}
