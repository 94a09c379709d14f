/**
 * Migration 0018: the session marker of version-2 refresh tokens (services/refresh-token-tags.ts), so that a live
 * session's rotated tokens need not be kept until it ends. Before, every rotation left a row behind for the session's
 * whole life (up to `JOT_SESSION_MAX_LIFETIME`, thousands of rows for a client refreshing every access-token
 * lifetime), only so that a rotated token presented again was found and judged reuse. A version-2 token names its
 * session by a marker under its tag, so its row can go soon after its rotation (store/refresh-token-pruning.ts):
 * presented again, a token missing from the store whose marker names one session is reuse all the same.
 *
 * - `refresh_tokens.marker`: the marker of a version-2 token's row; null for the rows of older tokens (never pruned
 *   before their session ends). Nullable, without default: adding it rewrites nothing, and an older instance, which
 *   names the columns it inserts, goes on inserting (unmarked) rows during a rolling upgrade.
 * - `refresh_tokens_marker_idx` on `marker` (marked rows only): a token not in the store finds the session its marker
 *   names.
 * - `refresh_tokens_marked_rotated_idx` on `rotated_at` (marked rows only): the sweep finds the rotated marked rows
 *   oldest first; the current tokens (`rotated_at` null) and the older rows are not in it.
 *
 * `IF NOT EXISTS` (the column too, on PostgreSQL): an operator with a very large PostgreSQL table may add the column
 * and build both indexes beforehand with `CREATE INDEX CONCURRENTLY` (docs/deploy.md); the migration then finds them.
 */
import { sql, type Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** The index of the marked rows by marker. */
export const MARKER_INDEX = 'refresh_tokens_marker_idx';
/** The index of the marked rows by rotation. */
export const MARKED_ROTATED_INDEX = 'refresh_tokens_marked_rotated_idx';

/** Adds the column and its two partial indexes. */
export async function up(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  // PostgreSQL: the operator may have added it already, to build the indexes concurrently (docs/deploy.md).
  if (dialect === 'postgres')
    await sql`alter table refresh_tokens add column if not exists marker text`.execute(db);
  else await db.schema.alterTable('refresh_tokens').addColumn('marker', 'text').execute();
  await db.schema
    .createIndex(MARKER_INDEX)
    .ifNotExists()
    .on('refresh_tokens')
    .column('marker')
    .where(sql.ref('marker'), 'is not', null)
    .execute();
  await db.schema
    .createIndex(MARKED_ROTATED_INDEX)
    .ifNotExists()
    .on('refresh_tokens')
    .column('rotated_at')
    .where(sql.ref('marker'), 'is not', null)
    .execute();
}

/** Drops them. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.dropIndex(MARKED_ROTATED_INDEX).ifExists().execute();
  await db.schema.dropIndex(MARKER_INDEX).ifExists().execute();
  await db.schema.alterTable('refresh_tokens').dropColumn('marker').execute();
}
