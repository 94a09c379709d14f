/**
 * Migration 0020: `login_throttles.settled_until`, how far the lock reaches that stands whatever the attempts still
 * being checked turn out to be (store/login-throttles.ts). Every attempt is counted before its password is checked and
 * earns its lock right then, so an attempt refused while another is checked was told that one's full lock — also when
 * it was a right password (a retry, a double click) whose success takes the lock back a moment later, and at the end
 * of a lock, the escalated next one. A reservation that raises the lock now keeps the lock that stood before it here;
 * a failure's check confirms its own lock; a refusal quotes this while it is below `locked_until`.
 *
 * Nullable, no default: null is "the whole lock is settled" — the rows from before, and those an instance of the
 * release before writes during a rolling upgrade (its refusals quote the full lock, as before). Adding it rewrites
 * nothing.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the column (null: the whole lock is settled). */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('login_throttles').addColumn('settled_until', 'bigint').execute();
}

/** Drops it: refusals quote the whole lock again. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('login_throttles').dropColumn('settled_until').execute();
}
