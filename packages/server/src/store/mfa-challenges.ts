/**
 * Queries on `mfa_challenges` (MFA tokens and WebAuthn challenges) and `mfa_failures` (the per-account limit).
 * An attempt is counted by a conditional UPDATE before the code is checked, and a challenge is consumed by another,
 * so neither a parallel burst nor several instances get more tries or uses than allowed.
 */
import type { Kysely, Selectable } from 'kysely';
import { sql } from 'kysely';

import { parseJsonObject, type JsonObject } from './json.js';
import type { MfaChallengesTable, Schema } from './schema.js';

/** What a challenge is for. */
export type MfaChallengeKind = 'mfa_token' | 'webauthn_register' | 'webauthn_login';

/** A challenge record (known by the hash of its id). */
export interface MfaChallenge {
  idHash: string;
  kind: MfaChallengeKind;
  userId: string | null;
  data: JsonObject;
  attempts: number;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

/** Input of `insertChallenge`. */
export interface NewMfaChallenge {
  idHash: string;
  kind: MfaChallengeKind;
  userId: string | null;
  data?: JsonObject;
  expiresAt: number;
}

type Db = Kysely<Schema>;

function toChallenge(row: Selectable<MfaChallengesTable>): MfaChallenge {
  return {
    idHash: row.id_hash,
    kind: row.kind as MfaChallengeKind,
    userId: row.user_id,
    data: parseJsonObject(row.data),
    attempts: row.attempts,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}

export async function insertChallenge(db: Db, input: NewMfaChallenge, now: number): Promise<void> {
  await db
    .insertInto('mfa_challenges')
    .values({
      id_hash: input.idHash,
      kind: input.kind,
      user_id: input.userId,
      data: JSON.stringify(input.data ?? {}),
      attempts: 0,
      created_at: now,
      expires_at: input.expiresAt,
      consumed_at: null,
    })
    .execute();
}

/**
 * Counts one attempt on a live, unconsumed challenge that has fewer than `maxAttempts`; returns it as updated, or
 * undefined when it is unknown, expired, used up or out of attempts.
 */
export async function takeAttempt(
  db: Db,
  idHash: string,
  kind: MfaChallengeKind,
  maxAttempts: number,
  now: number,
): Promise<MfaChallenge | undefined> {
  const row = await db
    .updateTable('mfa_challenges')
    .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
    .where('id_hash', '=', idHash)
    .where('kind', '=', kind)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .where('attempts', '<', maxAttempts)
    .returningAll()
    .executeTakeFirst();
  return row && toChallenge(row);
}

/** Consumes a live challenge; returns it to the one caller that did, undefined to everyone else. */
export async function consumeChallenge(
  db: Db,
  idHash: string,
  kind: MfaChallengeKind,
  now: number,
): Promise<MfaChallenge | undefined> {
  const row = await db
    .updateTable('mfa_challenges')
    .set({ consumed_at: now })
    .where('id_hash', '=', idHash)
    .where('kind', '=', kind)
    .where('consumed_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  return row && toChallenge(row);
}

/** Deletes challenges that expired before `now`; returns how many. */
export async function pruneChallenges(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('mfa_challenges').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Counts a second-factor attempt against the account, in one upsert: the window restarts when the stored one is
 * older than `windowMs`. Returns the attempts in the current window, this one included, and when that window
 * began (so a lock can say when it ends).
 */
export async function countAccountAttempt(
  db: Db,
  userId: string,
  windowMs: number,
  now: number,
): Promise<{ count: number; windowStart: number }> {
  const stale = now - windowMs;
  const row = await db
    .insertInto('mfa_failures')
    .values({ user_id: userId, window_start: now, count: 1 })
    .onConflict((oc) =>
      oc.column('user_id').doUpdateSet({
        count: sql<number>`CASE WHEN mfa_failures.window_start <= ${stale} THEN 1 ELSE mfa_failures.count + 1 END`,
        window_start: sql<number>`CASE WHEN mfa_failures.window_start <= ${stale} THEN ${now} ELSE mfa_failures.window_start END`,
      }),
    )
    .returning(['count', 'window_start'])
    .executeTakeFirstOrThrow();
  return { count: Number(row.count), windowStart: Number(row.window_start) };
}

/** Takes back one counted attempt (a correct code does not count against the account). */
export async function refundAccountAttempt(db: Db, userId: string): Promise<void> {
  await db
    .updateTable('mfa_failures')
    .set((eb) => ({ count: eb('count', '-', 1) }))
    .where('user_id', '=', userId)
    .where('count', '>', 0)
    .execute();
}
