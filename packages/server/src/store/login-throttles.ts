/**
 * Queries on `login_throttles`: consecutive failed sign-ins per account key. The count is incremented by one atomic
 * upsert and the lock only ever moves forward, so instances counting the same account never lose a failure.
 */
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';

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
 * Counts one more failure for `key` (one atomic upsert; a count untouched since `staleBefore` starts over) and
 * returns the new count.
 */
export async function recordLoginFailure(
  db: Db,
  key: string,
  staleBefore: number,
  now: number,
): Promise<number> {
  const row = await db
    .insertInto('login_throttles')
    .values({ account_key: key, failures: 1, locked_until: 0, updated_at: now })
    .onConflict((oc) =>
      oc.column('account_key').doUpdateSet({
        failures: sql<number>`CASE WHEN login_throttles.updated_at < ${staleBefore} THEN 1 ELSE login_throttles.failures + 1 END`,
        updated_at: now,
      }),
    )
    .returning('failures')
    .executeTakeFirstOrThrow();
  return Number(row.failures);
}

/** Moves the lock of `key` forward to `until` (never back). */
export async function extendLoginLock(db: Db, key: string, until: number): Promise<void> {
  await db
    .updateTable('login_throttles')
    .set({ locked_until: until })
    .where('account_key', '=', key)
    .where('locked_until', '<', until)
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
