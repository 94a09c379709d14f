/**
 * Queries on `refresh_tokens`, above all the atomic rotation: a single conditional UPDATE decides
 * which of several concurrent uses of one token wins, so the race cannot mint two successors.
 */
import { sql, type Kysely, type QueryCreator, type RawBuilder, type Selectable } from 'kysely';
import { precompiled } from './precompiled.js';
import type { RefreshTokensTable, Schema, SessionsTable } from './schema.js';
import { toSession, touchLive, touchLiveSession, type Session } from './sessions.js';
import { recordSighting, type SessionSighting } from './sightings.js';
import { inTransaction } from './transaction.js';

/** A refresh token record as callers see it (never the token itself, only its hash). */
export interface RefreshToken {
  tokenHash: string;
  sessionId: string;
  generation: number;
  createdAt: number;
  rotatedAt: number | null;
  successorHash: string | null;
  successorCiphertext: string | null;
  /** The session marker a version-2 token carries (services/refresh-token-tags.ts); null for an older token. */
  marker: string | null;
}

/** Input of `insertRefreshToken`. */
export interface NewRefreshToken {
  /** Hex SHA-256 of the opaque token. */
  tokenHash: string;
  sessionId: string;
  generation: number;
  /** The session marker the token carries; null (the default) for a token without one. */
  marker?: string | null;
}

/** The successor a rotation installs. */
export interface RefreshTokenSuccessor {
  /** Hex SHA-256 of the new opaque token. */
  hash: string;
  /** The new token encrypted by the caller, returned to a concurrent use within the grace window. */
  ciphertext: string;
  generation: number;
  /** The session marker the new token carries; null for a token without one. */
  marker?: string | null;
}

/**
 * What `rotateRefreshToken` did:
 * - `rotated`: this call won; `token` is the old record now marked rotated, `successor` the new one.
 * - `already_rotated`: another call rotated it first; `token` is the record as it stands, with
 *   `rotatedAt`, `successorHash` and `successorCiphertext`, for the grace-window decision.
 * - `not_found`: no such token.
 * - `session_ended`: asked to touch the session first, it was not live (or its user not active on its credential
 *   generation); nothing changed.
 * `session` is the touched session, when a touch was asked for.
 */
export type RotateResult =
  | { status: 'rotated'; token: RefreshToken; successor: RefreshToken; session?: Session }
  | { status: 'already_rotated'; token: RefreshToken; session?: Session }
  | { status: 'not_found' }
  | { status: 'session_ended' };

type Db = Kysely<Schema>;

/**
 * What a rotation does besides rotating: `touchSession` touches that session first (and rotates nothing unless it is
 * live); `sighting`, with a touch, records where the session is used now in the same statement or transaction (only
 * when the touch matched).
 */
export interface RotateOptions {
  touchSession?: string;
  sighting?: Omit<SessionSighting, 'seenAt'>;
}

export function toRefreshToken(row: Selectable<RefreshTokensTable>): RefreshToken {
  return {
    tokenHash: row.token_hash,
    sessionId: row.session_id,
    generation: row.generation,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
    successorHash: row.successor_hash,
    successorCiphertext: row.successor_ciphertext,
    marker: row.marker ?? null,
  };
}

export async function insertRefreshToken(db: Db, input: NewRefreshToken, now: number): Promise<RefreshToken> {
  // The same INSERT as a rotation's successor, compiled once: every sign-in runs it.
  const row = await successorQuery(db, {
    hash: input.tokenHash,
    sessionId: input.sessionId,
    generation: input.generation,
    marker: input.marker ?? null,
    now,
  });
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return toRefreshToken(row as Selectable<RefreshTokensTable>);
}

export async function getRefreshToken(db: Db, hash: string): Promise<RefreshToken | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .selectAll()
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  return row && toRefreshToken(row);
}

/**
 * The rotation's conditional UPDATE: marks the token rotated and records its successor, only while it is unrotated
 * (`WHERE rotated_at IS NULL`). Built here for both forms of the rotation below.
 */
function rotate(
  db: QueryCreator<Schema>,
  oldHash: string,
  successor: { hash: string; ciphertext: string },
  now: RawBuilder<number>,
) {
  return db
    .updateTable('refresh_tokens')
    .set({ rotated_at: now, successor_hash: successor.hash, successor_ciphertext: successor.ciphertext })
    .where('token_hash', '=', oldHash)
    .where('rotated_at', 'is', null);
}

/** The rotation's conditional UPDATE and the successor's INSERT, compiled once (see precompiled.ts). */
const rotateQuery = precompiled(['now', 'hash', 'ciphertext', 'oldHash'], (db, v) =>
  rotate(db, v.oldHash, v, sql<number>`${v.now}`).returningAll(),
);
const successorQuery = precompiled(['hash', 'sessionId', 'generation', 'marker', 'now'], (db, v) =>
  db
    .insertInto('refresh_tokens')
    .values({
      token_hash: v.hash,
      session_id: v.sessionId,
      generation: sql<number>`${v.generation}`,
      created_at: sql<number>`${v.now}`,
      rotated_at: null,
      successor_hash: null,
      successor_ciphertext: null,
      marker: sql<string | null>`${v.marker}`,
    })
    .returningAll(),
);

export async function rotateRefreshToken(
  db: Db,
  oldHash: string,
  successor: RefreshTokenSuccessor,
  now: number,
  { touchSession, sighting }: RotateOptions = {},
): Promise<RotateResult> {
  return inTransaction(db, async (trx) => {
    // The session first (the order a revocation takes its locks in: session row, then its refresh tokens), so a
    // token of a session that ended meanwhile is never rotated.
    let session: Session | undefined;
    if (touchSession !== undefined) {
      session = await touchLiveSession(trx, touchSession, now);
      if (session === undefined) return { status: 'session_ended' };
      if (sighting !== undefined) await recordSighting(trx, touchSession, { ...sighting, seenAt: now });
    }
    // The WHERE rotated_at IS NULL is the whole lock: in Postgres a concurrent UPDATE blocks on the row
    // and re-checks the condition after the winner commits (READ COMMITTED), matching nothing; in SQLite
    // writers are serialised. Either way exactly one caller gets a row back.
    const won = (await rotateQuery(trx, {
      now,
      hash: successor.hash,
      ciphertext: successor.ciphertext,
      oldHash,
    })) as Selectable<RefreshTokensTable> | undefined;
    if (won) {
      const next = (await successorQuery(trx, {
        hash: successor.hash,
        sessionId: won.session_id,
        generation: successor.generation,
        marker: successor.marker ?? null,
        now,
      })) as Selectable<RefreshTokensTable> | undefined;
      if (next === undefined) throw new Error('the successor refresh token was not inserted');
      return { status: 'rotated', token: toRefreshToken(won), successor: toRefreshToken(next), session };
    }
    const existing = await trx
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('token_hash', '=', oldHash)
      .executeTakeFirst();
    return existing
      ? { status: 'already_rotated', token: toRefreshToken(existing), session }
      : { status: 'not_found' };
  });
}

/**
 * The PostgreSQL rotation as one statement (no BEGIN/COMMIT round trips): the touch of the session, the conditional
 * UPDATE of the token — which runs only when the touch matched (`EXISTS (SELECT 1 FROM touched)`, evaluated first,
 * so the session row is locked before the token row, the order a revocation takes them in) — the successor's
 * INSERT from the rotated row and, when `sighted` is true, the upsert of where the session is used now (a refresh's
 * sighting: its own statement and commit otherwise). One statement is one transaction: all of it commits or none.
 */
const rotateAtOnceQuery = precompiled(
  [
    'sessionId',
    'now',
    'hash',
    'ciphertext',
    'oldHash',
    'generation',
    'marker',
    'sighted',
    'network',
    'userAgent',
  ],
  (db, v) => {
    const now = sql<number>`${v.now}`;
    return (
      db
        .with('touched', (qb) => touchLive(qb, v.sessionId, now))
        // From the touched row, so only when the touch matched; also when the rotation then loses to a concurrent
        // one (the session was used from here all the same, as the separate upsert would record).
        .with('sighted', (qb) =>
          qb
            .insertInto('session_sightings')
            .columns(['session_id', 'network', 'user_agent', 'seen_at'])
            .expression(
              sql`select touched.id, ${v.network}, ${v.userAgent}, cast(${v.now} as bigint) from touched where cast(${v.sighted} as boolean)`,
            )
            .onConflict((oc) =>
              oc.column('session_id').doUpdateSet({
                network: sql`excluded.network`,
                user_agent: sql`excluded.user_agent`,
                seen_at: sql`excluded.seen_at`,
              }),
            ),
        )
        .with('won', (qb) =>
          // The same UPDATE as the two-statement form; `touched` is only named in raw SQL, so the CTE's type
          // need not be known to it.
          rotate(qb as unknown as QueryCreator<Schema>, v.oldHash, v, now)
            .where(sql<boolean>`exists (select 1 from touched)`)
            .returningAll(),
        )
        .with('added', (qb) =>
          qb
            .insertInto('refresh_tokens')
            .columns(['token_hash', 'session_id', 'generation', 'created_at', 'marker'])
            .expression(
              sql`select ${v.hash}, won.session_id, cast(${v.generation} as integer), cast(${v.now} as bigint), cast(${v.marker} as text) from won`,
            )
            .returningAll(),
        )
        .selectFrom('touched')
        .leftJoin('won', (join) => join.onTrue())
        .leftJoin('added', (join) => join.onTrue())
        .select([
          sql<unknown>`row_to_json(touched)`.as('session'),
          sql<unknown>`row_to_json(won)`.as('token'),
          sql<unknown>`row_to_json(added)`.as('successor'),
        ])
    );
  },
  // Its result is three `json` columns whatever columns the tables gain, so a cached plan stays valid.
  { named: 'rotate' },
);

/**
 * `rotateRefreshToken` with a touch (and a sighting, if given), in one PostgreSQL statement (see `rotateAtOnceQuery`).
 * Its answers are the same; a token found rotated is read again by a second statement, which sees the winner's
 * commit.
 */
export async function rotateRefreshTokenAtOnce(
  db: Db,
  oldHash: string,
  successor: RefreshTokenSuccessor,
  now: number,
  sessionId: string,
  sighting?: Omit<SessionSighting, 'seenAt'>,
): Promise<RotateResult> {
  const row = await rotateAtOnceQuery(db, {
    sessionId,
    now,
    hash: successor.hash,
    ciphertext: successor.ciphertext,
    oldHash,
    generation: successor.generation,
    marker: successor.marker ?? null,
    sighted: sighting !== undefined,
    network: sighting?.network ?? '',
    userAgent: sighting?.userAgent ?? '',
  });
  if (row === undefined) return { status: 'session_ended' };
  const session = toSession(row.session as Selectable<SessionsTable>);
  if (row.token !== null && row.successor !== null) {
    return {
      status: 'rotated',
      token: toRefreshToken(row.token as Selectable<RefreshTokensTable>),
      successor: toRefreshToken(row.successor as Selectable<RefreshTokensTable>),
      session,
    };
  }
  const existing = await getRefreshToken(db, oldHash);
  return existing ? { status: 'already_rotated', token: existing, session } : { status: 'not_found' };
}

/** See `Store.nthNewestRotation`. */
export async function nthNewestRotation(
  db: Db,
  sessionId: string,
  since: number,
  limit: number,
): Promise<number | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select('rotated_at')
    .where('session_id', '=', sessionId)
    .where('rotated_at', '>', since)
    .orderBy('rotated_at', 'desc')
    .limit(1)
    .offset(limit - 1)
    .executeTakeFirst();
  return row?.rotated_at === null || row?.rotated_at === undefined ? undefined : Number(row.rotated_at);
}

export async function deleteRefreshTokensForSession(db: Db, sessionId: string): Promise<number> {
  const result = await db.deleteFrom('refresh_tokens').where('session_id', '=', sessionId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * The sessions (their ids) whose refresh-token rows carry `marker`, at most two: one names the session a version-2
 * token belongs to; two say the marker is ambiguous (see services/sessions/pruned-tokens.ts). The smallest and the
 * largest session id among the marker's rows, from the marker index (migration 0018) — a family's rows, few once
 * swept — so the planner has no reason to prefer another index for a DISTINCT.
 */
export async function sessionsWithRefreshMarker(db: Db, marker: string): Promise<string[]> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select((eb) => [eb.fn.min('session_id').as('first'), eb.fn.max('session_id').as('last')])
    .where('marker', '=', marker)
    .executeTakeFirst();
  if (row?.first === null || row?.first === undefined || row.last === null) return [];
  return row.first === row.last ? [row.first] : [row.first, row.last];
}
