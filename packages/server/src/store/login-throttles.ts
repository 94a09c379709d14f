/**
 * Queries on `login_throttles`: consecutive failed sign-ins per account key. The count is incremented by one atomic
 * upsert and the lock only ever moves forward, so instances counting the same account never lose a failure. Each run
 * of a count — from the row's insert, or its restart once stale, to its deletion — has its own random generation, and
 * each attempt counted in it its own place (`reserved`, which no success lowers), so a success forgets failures only
 * in the run its own attempt was counted in, and only those reserved up to its place.
 */
import { randomBytes } from 'node:crypto';

import { sql } from 'kysely';
import type { Kysely, RawBuilder, Selectable } from 'kysely';

import { precompiled } from './precompiled.js';
import type { LoginThrottlesTable, Schema } from './schema.js';

/** An account's sign-in throttle state. */
export interface LoginThrottle {
  accountKey: string;
  failures: number;
  /** Sign-ins are refused until this epoch ms (0 = not locked). */
  lockedUntil: number;
  updatedAt: number;
}

type Db = Kysely<Schema>;

function toThrottle(row: Selectable<LoginThrottlesTable>): LoginThrottle {
  return {
    accountKey: row.account_key,
    failures: Number(row.failures),
    lockedUntil: Number(row.locked_until),
    updatedAt: Number(row.updated_at),
  };
}

/** `getLoginThrottle`'s read, compiled once (see precompiled.ts): every sign-in runs it. */
const throttleQuery = precompiled(['key'], (db, v) =>
  db.selectFrom('login_throttles').selectAll().where('account_key', '=', v.key),
);

export async function getLoginThrottle(db: Db, key: string): Promise<LoginThrottle | undefined> {
  const row = await throttleQuery(db, { key });
  return row && toThrottle(row as Selectable<LoginThrottlesTable>);
}

/**
 * The lock schedule ({@link lockMs}, and `lockSql` as the database evaluates it): after `n` consecutive failures,
 * none while `n < freeFailures`, else `baseMs × 2^(n − freeFailures)` capped at `maxMs` (and, as `lockMs` caps the
 * exponent at 30, at `baseMs × 2^30`).
 */
export interface LockSchedule {
  freeFailures: number;
  baseMs: number;
  maxMs: number;
}

/** The lock after `failures` consecutive failures (0 while still free). */
export function lockMs(failures: number, schedule: LockSchedule): number {
  if (failures < schedule.freeFailures) return 0;
  const exponent = Math.min(failures - schedule.freeFailures, 30);
  return Math.min(schedule.maxMs, schedule.baseMs * 2 ** exponent);
}

/**
 * The lock after `count` failures as SQL, with no overflow: past the first exponent whose lock reaches the cap
 * (at most 30), the cap itself; below it `baseMs << exponent`, which stays under the cap.
 */
function lockSql(count: RawBuilder<number>, schedule: LockSchedule): RawBuilder<number> {
  let top = 0;
  while (top < 30 && schedule.baseMs * 2 ** top < schedule.maxMs) top++;
  const cap = Math.min(schedule.maxMs, schedule.baseMs * 2 ** top);
  const free = schedule.freeFailures;
  return sql<number>`CASE WHEN ${count} < ${sql.lit(free)} THEN 0 WHEN ${count} >= ${sql.lit(free + top)} THEN CAST(${sql.lit(cap)} AS bigint) ELSE CAST(${sql.lit(schedule.baseMs)} AS bigint) * (CAST(1 AS bigint) << (${count} - ${sql.lit(free)})) END`;
}

/** What {@link countLoginAttempt} did. */
export type LoginAttemptCount =
  /**
   * Counted: the count with this attempt (the lock schedule's), the lock now stored (0 or a past time: none), and the
   * generation of the run it was counted in and its place in that run (for {@link forgetLoginAttempts}).
   */
  | { counted: true; failures: number; lockedUntil: number; generation: string; reserved: number }
  /** Not counted: `key` was locked (`refuse` only). */
  | { counted: false };

/**
 * Counts one attempt under `key` as a failure, in ONE atomic upsert that also sets the lock the new count earns
 * (`now` + {@link lockMs}; a lock only ever moves forward), so instances counting the same key never lose an attempt
 * and never let one past a lock another has just set. A count untouched since `staleBefore` starts over. A row the
 * upsert inserts or starts over gets a new generation (the others keep theirs), returned with the count, and the
 * attempt's place in that run: 1 at its start, else one past the last place reserved in it (one past the count for a
 * row from before migration 0019, or one an instance of the release before counted on). With
 * `refuse`, a key locked at `now` is left as it is and the attempt is not counted (`counted: false`): a sign-in
 * reserves its attempt so, BEFORE its password is checked — of N at once, only those the budget allows get a check.
 */
export async function countLoginAttempt(
  db: Db,
  key: string,
  schedule: LockSchedule,
  { staleBefore, now, refuse }: { staleBefore: number; now: number; refuse: boolean },
): Promise<LoginAttemptCount> {
  const stale = sql<boolean>`login_throttles.updated_at < ${staleBefore}`;
  const count = sql<number>`(CASE WHEN ${stale} THEN 1 ELSE login_throttles.failures + 1 END)`;
  const until = sql<number>`(CAST(${now} AS bigint) + ${lockSql(count, schedule)})`;
  // Never below the count: a row without places (from before migration 0019) or one an older instance counted on.
  const place = sql<number>`(CASE WHEN ${stale} THEN 1 WHEN login_throttles.reserved > login_throttles.failures THEN login_throttles.reserved + 1 ELSE login_throttles.failures + 1 END)`;
  const first = lockMs(1, schedule);
  const row = await db
    .insertInto('login_throttles')
    .values({
      account_key: key,
      failures: 1,
      locked_until: first > 0 ? now + first : 0,
      updated_at: now,
      generation: randomBytes(12).toString('base64url'),
      reserved: 1,
    })
    .onConflict((oc) => {
      const update = oc.column('account_key').doUpdateSet({
        failures: count,
        locked_until: sql<number>`CASE WHEN ${count} >= ${sql.lit(schedule.freeFailures)} AND ${until} > login_throttles.locked_until THEN ${until} ELSE login_throttles.locked_until END`,
        updated_at: now,
        // Starting over is a new run: the generation the insert would have given.
        generation: sql<string>`CASE WHEN ${stale} THEN excluded.generation ELSE login_throttles.generation END`,
        reserved: place,
      });
      return refuse ? update.where('login_throttles.locked_until', '<=', now) : update;
    })
    .returning(['failures', 'locked_until', 'generation', 'reserved'])
    .executeTakeFirst();
  if (row === undefined) return { counted: false };
  return {
    counted: true,
    failures: Number(row.failures),
    lockedUntil: Number(row.locked_until),
    generation: row.generation,
    reserved: Number(row.reserved),
  };
}

/**
 * Forgets the attempts counted under `key` up to and including one that succeeded — the one reserved at place
 * `place` in the run `generation`: with no place reserved after it, the count goes with its lock, row and all (a
 * zeroed row would only wait for `prune`); else the count is at most the places reserved after it (a concurrent
 * burst), which stay counted, with the lock they set. By place, not by count: a count lowered by another success and
 * raised again by a later reservation still tells that reservation from this one's (A, B reserve; A succeeds; C
 * reserves; B's success leaves C's). Only in that run: once the row has gone (another success forgot it all) or
 * started over (stale), the count it holds is of attempts after this one, whatever its value, and stays. Each step
 * is one conditional statement, on the row only while it is still of `generation`, so a failure another instance
 * counts in between is never wiped: the row is deleted only while no place past `place` is reserved; else (places
 * only grow) the count is capped at the places past it as one UPDATE.
 */
export async function forgetLoginAttempts(
  db: Db,
  key: string,
  place: number,
  generation: string,
): Promise<void> {
  const deleted = await db
    .deleteFrom('login_throttles')
    .where('account_key', '=', key)
    .where('generation', '=', generation)
    .where('reserved', '<=', place)
    .executeTakeFirst();
  if (deleted.numDeletedRows > 0n) return;
  const after = sql<number>`(reserved - ${place})`;
  await db
    .updateTable('login_throttles')
    .set({ failures: sql<number>`CASE WHEN failures > ${after} THEN ${after} ELSE failures END` })
    .where('account_key', '=', key)
    .where('generation', '=', generation)
    .where('reserved', '>', place)
    .execute();
}

export async function clearLoginThrottle(db: Db, key: string): Promise<void> {
  await db.deleteFrom('login_throttles').where('account_key', '=', key).execute();
}

/** Deletes rows untouched since `before` whose lock has expired; returns how many. */
export async function pruneLoginThrottles(db: Db, before: number, now: number): Promise<number> {
  const result = await db
    .deleteFrom('login_throttles')
    .where('updated_at', '<', before)
    .where('locked_until', '<=', now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
