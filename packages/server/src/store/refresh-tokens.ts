/**
 * Queries on `refresh_tokens`, above all the atomic rotation: a single conditional UPDATE decides
 * which of several concurrent uses of one token wins, so the race cannot mint two successors.
 */
import { sql, type Kysely, type Selectable } from 'kysely';
import { precompiled } from './precompiled.js';
import type { RefreshTokensTable, Schema } from './schema.js';
import { touchLiveSession, type Session } from './sessions.js';
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
}

/** Input of `insertRefreshToken`. */
export interface NewRefreshToken {
  /** Hex SHA-256 of the opaque token. */
  tokenHash: string;
  sessionId: string;
  generation: number;
}

/** The successor a rotation installs. */
export interface RefreshTokenSuccessor {
  /** Hex SHA-256 of the new opaque token. */
  hash: string;
  /** The new token encrypted by the caller, returned to a concurrent use within the grace window. */
  ciphertext: string;
  generation: number;
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

export function toRefreshToken(row: Selectable<RefreshTokensTable>): RefreshToken {
  return {
    tokenHash: row.token_hash,
    sessionId: row.session_id,
    generation: row.generation,
    createdAt: row.created_at,
    rotatedAt: row.rotated_at,
    successorHash: row.successor_hash,
    successorCiphertext: row.successor_ciphertext,
  };
}

export async function insertRefreshToken(db: Db, input: NewRefreshToken, now: number): Promise<RefreshToken> {
  const row = await db
    .insertInto('refresh_tokens')
    .values({
      token_hash: input.tokenHash,
      session_id: input.sessionId,
      generation: input.generation,
      created_at: now,
      rotated_at: null,
      successor_hash: null,
      successor_ciphertext: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRefreshToken(row);
}

export async function getRefreshToken(db: Db, hash: string): Promise<RefreshToken | undefined> {
  const row = await db
    .selectFrom('refresh_tokens')
    .selectAll()
    .where('token_hash', '=', hash)
    .executeTakeFirst();
  return row && toRefreshToken(row);
}

/** The rotation's conditional UPDATE and the successor's INSERT, compiled once (see precompiled.ts). */
const rotateQuery = precompiled(['now', 'hash', 'ciphertext', 'oldHash'], (db, v) =>
  db
    .updateTable('refresh_tokens')
    .set({
      rotated_at: sql<number>`${v.now}`,
      successor_hash: v.hash,
      successor_ciphertext: v.ciphertext,
    })
    .where('token_hash', '=', v.oldHash)
    .where('rotated_at', 'is', null)
    .returningAll(),
);
const successorQuery = precompiled(['hash', 'sessionId', 'generation', 'now'], (db, v) =>
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
    })
    .returningAll(),
);

export async function rotateRefreshToken(
  db: Db,
  oldHash: string,
  successor: RefreshTokenSuccessor,
  now: number,
  touchSession?: string,
): Promise<RotateResult> {
  return inTransaction(db, async (trx) => {
    // The session first (the order a revocation takes its locks in: session row, then its refresh tokens), so a
    // token of a session that ended meanwhile is never rotated.
    let session: Session | undefined;
    if (touchSession !== undefined) {
      session = await touchLiveSession(trx, touchSession, now);
      if (session === undefined) return { status: 'session_ended' };
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

export async function deleteRefreshTokensForSession(db: Db, sessionId: string): Promise<number> {
  const result = await db.deleteFrom('refresh_tokens').where('session_id', '=', sessionId).executeTakeFirst();
  return Number(result.numDeletedRows);
}
