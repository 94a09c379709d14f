/**
 * The sweep of sessions that ended long ago: their refresh tokens first, then the sessions themselves, each in
 * bounded batches found through the index on the session's end (migration 0017), so a large backlog is deleted a
 * batch per statement and never holds the tables for long. A session is a candidate only once it has ended — been
 * revoked, passed its absolute expiry or gone unused past its idle timeout — before `endedBefore`; such a session can
 * never be live again (its end only moves on a touch of a live session), so nothing deleted here was in use.
 *
 * Safe on every instance at once: on PostgreSQL each batch takes its rows `FOR UPDATE SKIP LOCKED`, so concurrent
 * sweeps take disjoint rows and never wait on one another or on a revocation; SQLite serialises its writers.
 */
import { sql, type Kysely } from 'kysely';

import { sessionEnd } from './migrations/0017_session_end_index.js';
import type { DialectName, Schema } from './schema.js';

type Db = Kysely<Schema>;

/** What one batch deleted. */
export interface EndedSessionsPruned {
  refreshTokens: number;
  sessions: number;
}

/**
 * Deletes up to `limit` refresh tokens of the `limit` sessions that ended first before `endedBefore`, then up to
 * `limit` of those sessions that have no refresh token left (their sightings and renewals go by cascade). A session
 * whose tokens are not all gone yet waits for a later batch, so no statement cascades into an unbounded number of
 * token rows.
 */
export async function pruneEndedSessions(
  db: Db,
  dialect: DialectName,
  endedBefore: number,
  limit: number,
): Promise<EndedSessionsPruned> {
  const end = sessionEnd(dialect);
  const skipLocked = dialect === 'postgres' ? sql` for update skip locked` : sql``;
  const tokens = await sql`
    delete from refresh_tokens where token_hash in (
      select token_hash from refresh_tokens where session_id in (
        select id from sessions where ${end} < ${endedBefore} order by ${end} limit ${limit})
      limit ${limit}${skipLocked})
  `.execute(db);
  const sessions = await sql`
    delete from sessions where id in (
      select id from sessions where ${end} < ${endedBefore}
        and not exists (select 1 from refresh_tokens where refresh_tokens.session_id = sessions.id)
      order by ${end} limit ${limit}${skipLocked})
  `.execute(db);
  return {
    refreshTokens: Number(tokens.numAffectedRows ?? 0n),
    sessions: Number(sessions.numAffectedRows ?? 0n),
  };
}
