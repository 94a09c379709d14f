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
  /**
   * The end of the part of the lock that stands whatever the attempts still being checked turn out to be; null when
   * the whole lock does (see {@link lockWaitMs}).
   */
  settledUntil: number | null;
  updatedAt: number;
}

type Db = Kysely<Schema>;

function toThrottle(row: Selectable<LoginThrottlesTable>): LoginThrottle {
  return {
    accountKey: row.account_key,
    failures: Number(row.failures),
    lockedUntil: Number(row.locked_until),
    settledUntil: row.settled_until === null ? null : Number(row.settled_until),
    updatedAt: Number(row.updated_at),
  };
}

/**
 * How long past a reservation its attempt is taken as still being checked (for {@link lockWaitMs}): a check takes
 * milliseconds to seconds; one that never reports (its instance stopped) is taken as failed after this.
 */
export const PENDING_CHECK_MS = 60_000;

/**
 * What an attempt refused by `throttle`'s lock is told to wait (ms; 0: nothing to add): the lock that stands
 * whatever the attempts still being checked turn out to be. Every attempt is counted, and earns its lock, before its
 * password is checked; a success takes the lock its attempt earned back, a failure confirms it. So while the lock
 * reaches past its settled part (`settledUntil`), what is beyond is an attempt's still being checked — maybe a right
 * password sent twice, whose first success lifts it a moment later — and the refusal quotes the settled part (at the
 * end of a lock, nothing), not that attempt's fresh, full (or escalated) lock. Once that attempt has failed, the lock
 * is settled and quoted in full; one not reported within {@link PENDING_CHECK_MS} of the last reservation is taken
 * as failed.
 */
export function lockWaitMs(
  throttle: Pick<LoginThrottle, 'lockedUntil' | 'settledUntil' | 'updatedAt'>,
  now: number,
): number {
  const { lockedUntil, settledUntil, updatedAt } = throttle;
  const pending = settledUntil !== null && settledUntil < lockedUntil && now - updatedAt < PENDING_CHECK_MS;
  return Math.max(0, (pending ? settledUntil : lockedUntil) - now);
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
  const first = lockMs(1, schedule);
  const row = await countQuery(schedule, refuse)(db, {
    key,
    now,
    staleBefore,
    firstLock: first > 0 ? now + first : 0,
    // A reservation that locks at once is not judged yet: the lock that stood before it is none.
    settled: refuse && first > 0 ? 0 : null,
    generation: randomBytes(12).toString('base64url'),
  });
  if (row === undefined) return { counted: false };
  return {
    counted: true,
    failures: Number(row.failures),
    lockedUntil: Number(row.locked_until),
    generation: row.generation as string,
    reserved: Number(row.reserved),
  };
}

type CountQuery = ReturnType<
  typeof precompiled<'key' | 'now' | 'staleBefore' | 'firstLock' | 'settled' | 'generation'>
>;

/** {@link countLoginAttempt}'s upsert for each schedule and `refuse`, compiled once (every sign-in runs it). */
const countQueries = new Map<string, CountQuery>();

function countQuery(schedule: LockSchedule, refuse: boolean): CountQuery {
  const id = `${schedule.freeFailures}/${schedule.baseMs}/${schedule.maxMs}/${refuse}`;
  let query = countQueries.get(id);
  if (query === undefined) {
    query = precompiled(
      ['key', 'now', 'staleBefore', 'firstLock', 'settled', 'generation'],
      (db, v) => {
        const now = sql<number>`CAST(${v.now} AS bigint)`;
        const stale = sql<boolean>`login_throttles.updated_at < CAST(${v.staleBefore} AS bigint)`;
        const count = sql<number>`(CASE WHEN ${stale} THEN 1 ELSE login_throttles.failures + 1 END)`;
        const until = sql<number>`(${now} + ${lockSql(count, schedule)})`;
        const raised = sql<boolean>`${count} >= ${sql.lit(schedule.freeFailures)} AND ${until} > login_throttles.locked_until`;
        // Never below the count: a row without places (from before migration 0019) or one an older instance counted on.
        const place = sql<number>`(CASE WHEN ${stale} THEN 1 WHEN login_throttles.reserved > login_throttles.failures THEN login_throttles.reserved + 1 ELSE login_throttles.failures + 1 END)`;
        return db
          .insertInto('login_throttles')
          .values({
            account_key: v.key,
            failures: 1,
            locked_until: sql<number>`CAST(${v.firstLock} AS bigint)`,
            updated_at: now,
            generation: v.generation,
            reserved: 1,
            settled_until: sql<number | null>`CAST(${v.settled} AS bigint)`,
          })
          .onConflict((oc) => {
            const update = oc.column('account_key').doUpdateSet({
              failures: count,
              locked_until: sql<number>`CASE WHEN ${raised} THEN ${until} ELSE login_throttles.locked_until END`,
              updated_at: now,
              // Starting over is a new run: the generation the insert would have given.
              generation: sql<string>`CASE WHEN ${stale} THEN excluded.generation ELSE login_throttles.generation END`,
              reserved: place,
              // A reservation raising the lock is not judged yet: the lock before it stays the settled part (a failure
              // counted after its check, `refuse` false, changes nothing here: it is settled, and so is what it raised
              // unless an attempt before it is still being checked).
              ...(refuse && {
                settled_until: sql<
                  number | null
                >`CASE WHEN ${raised} THEN COALESCE(login_throttles.settled_until, login_throttles.locked_until) ELSE login_throttles.settled_until END`,
              }),
            });
            return refuse ? update.where('login_throttles.locked_until', '<=', now) : update;
          })
          .returning(['failures', 'locked_until', 'generation', 'reserved']);
        // Named on PostgreSQL (its result columns are listed): parsed and planned once per connection.
      },
      { named: 'throttle_count' },
    );
    countQueries.set(id, query);
  }
  return query;
}

/**
 * Confirms the lock a failed attempt earned when it was counted (it ends at `lockEnd`), in the run `generation`: the
 * settled part of the key's lock reaches at least that far, and is the whole lock once it reaches `locked_until`.
 * Nothing to do for a row whose lock is settled already (or gone: another success, or a count started over).
 */
export async function settleLoginAttempt(
  db: Db,
  key: string,
  generation: string,
  lockEnd: number,
): Promise<void> {
  const end = sql<number>`CAST(${lockEnd} AS bigint)`;
  await db
    .updateTable('login_throttles')
    .set({
      settled_until: sql<
        number | null
      >`CASE WHEN ${end} >= locked_until THEN NULL WHEN ${end} > settled_until THEN ${end} ELSE settled_until END`,
    })
    .where('account_key', '=', key)
    .where('generation', '=', generation)
    .where('settled_until', 'is not', null)
    .execute();
}

/** A successful attempt's reservation: its key, the run it was counted in and its place there (what its success forgets). */
export interface LoginReservation {
  key: string;
  generation: string;
  place: number;
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
/** The delete of {@link forgetLoginAttempts}, compiled once (every successful sign-in runs it); a row when it deleted. */
const forgetAllQuery = precompiled(['key', 'generation', 'place'], (db, v) =>
  db
    .deleteFrom('login_throttles')
    .where('account_key', '=', v.key)
    .where('generation', '=', v.generation)
    .where('reserved', '<=', sql<number>`${v.place}`)
    .returning('account_key'),
);

export async function forgetLoginAttempts(
  db: Db,
  key: string,
  place: number,
  generation: string,
): Promise<void> {
  if ((await forgetAllQuery(db, { key, generation, place })) !== undefined) return;
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
