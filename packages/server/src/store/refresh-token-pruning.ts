/**
 * The sweep of rotated version-2 refresh tokens (migration 0018): a rotated token's row is kept only for as long as
 * something reads it — the grace window (the previous token presented again gets the same successor, decrypted from
 * its row) and the rotation count of the last access-token lifetime (the rotation limit and the `refresh_anomaly`
 * signal) — and then deleted, whether its session is live or not. Presented again after that, the token is still
 * judged by the session its marker names (services/sessions/pruned-tokens.ts): reuse while that session is live, its
 * end once it has ended. Never deleted here: the current token of a session (`rotated_at` null) and the rows of
 * tokens without a marker (issued before version 2), which go with their session as before (session-pruning.ts).
 *
 * In bounded batches, oldest rotation first, found through the partial index on `rotated_at` of the marked rows;
 * safe on every instance at once: on PostgreSQL each batch takes its rows `FOR UPDATE SKIP LOCKED`, so concurrent
 * sweeps take disjoint rows and never wait on one another or on a rotation; SQLite serialises its writers.
 */
import { sql, type Kysely } from 'kysely';

import type { DialectName, Schema } from './schema.js';

type Db = Kysely<Schema>;

/** Deletes up to `limit` marked refresh-token rows rotated before `rotatedBefore`; resolves to the rows deleted. */
export async function pruneRotatedRefreshTokens(
  db: Db,
  dialect: DialectName,
  rotatedBefore: number,
  limit: number,
): Promise<number> {
  const skipLocked = dialect === 'postgres' ? sql` for update skip locked` : sql``;
  const result = await sql`
    delete from refresh_tokens where token_hash in (
      select token_hash from refresh_tokens where marker is not null and rotated_at < ${rotatedBefore}
      order by rotated_at limit ${limit}${skipLocked})
  `.execute(db);
  return Number(result.numAffectedRows ?? 0n);
}
