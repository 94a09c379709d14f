/**
 * Migration 0017: an index on the instant each session ended or will end — the earliest of its revocation, its
 * absolute expiry and the end of its idle timeout (`sessionEnd`, the end of the live rule in store/sessions.ts) — so
 * the periodic sweep (store/session-pruning.ts) finds the sessions that ended more than `JOT_SESSION_RETENTION` ago
 * oldest first, from the index alone, however many live sessions the table holds. An index on an expression, not a
 * column: every writer of `revoked_at` or `last_used_at` keeps it true without knowing of it, and no existing row
 * needs filling in. PostgreSQL spells the smallest of three `least`, SQLite `min`; the arguments are never null
 * (`coalesce` to the absolute expiry), because SQLite's `min` is null when any argument is.
 *
 * `IF NOT EXISTS`: an operator with a very large PostgreSQL table may build it beforehand with
 * `CREATE INDEX CONCURRENTLY` (docs/deploy.md), without blocking sign-ins; the migration then finds it there.
 */
import { sql, type Kysely, type RawBuilder } from 'kysely';

import type { DialectName } from '../schema.js';

/** The index's name. */
export const SESSION_END_INDEX = 'sessions_end_idx';

/**
 * The indexed expression, spelled exactly as the index has it (a query must repeat it to the letter for either
 * database to use the index): the instant the session stopped, or stops unless used again, being live.
 */
export function sessionEnd(dialect: DialectName): RawBuilder<number> {
  const smallest = dialect === 'postgres' ? 'least' : 'min';
  return sql.raw<number>(
    `${smallest}(coalesce(revoked_at, absolute_expires_at), absolute_expires_at, ` +
      `coalesce(last_used_at + idle_timeout_ms, absolute_expires_at))`,
  );
}

/** Adds the index on the end of each session. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .createIndex(SESSION_END_INDEX)
    .ifNotExists()
    .on('sessions')
    .expression(sessionEnd(dialect))
    .execute();
}

/** Drops it. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex(SESSION_END_INDEX).ifExists().execute();
}
