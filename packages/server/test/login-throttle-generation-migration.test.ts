/**
 * Migration 0019 (`login_throttles.generation` and `login_throttles.reserved`), on SQLite and PostgreSQL: a count from
 * before it — or one an instance of the release before starts during a rolling upgrade, naming only the columns it
 * knows — is of the generation `''`, its attempts' places go on from its count, and a success counted in it forgets
 * up to its place; a count started after it has a generation of its own and places from 1. Down drops both columns.
 * (How successes forget only in their own run, by place: the store conformance suite.)
 */
import { randomUUID } from 'node:crypto';

import { Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import type { Schema } from '../src/store/schema.js';
import { migrateTo, migrationBackends } from './support/migrations.js';

const T0 = Date.UTC(2034, 0, 1);
const MIN = 60_000;
const SCHEDULE = { freeFailures: 5, baseMs: MIN, maxMs: MIN };
const backends = await migrationBackends('migration 0019', T0);

describe.each(backends)('migration 0019 (login throttle generation): $dialect', (backend) => {
  it('a count from before it goes on as the generation "", its places from its count; a new count draws its own and places from 1', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const down = await migrateTo(db, backend, '0018_refresh_token_markers');
      expect(down.error).toBeUndefined();
      expect(down.results?.map((r) => r.migrationName)).toEqual([
        '0020_login_throttle_settled',
        '0019_login_throttle_generation',
      ]);
      // Which of the two columns the table has (a query naming one that is not there fails).
      const columns = async () => {
        const present = await Promise.all(
          ['generation', 'reserved'].map((name) =>
            sql`SELECT ${sql.ref(name)} FROM login_throttles WHERE 1 = 0`.execute(db).then(
              () => [name],
              () => [],
            ),
          ),
        );
        return present.flat();
      };
      expect(await columns()).toEqual([]);
      // What the release before leaves: a row without the column.
      const before = `before-${randomUUID()}`;
      await db
        .insertInto('login_throttles')
        .values({ account_key: before, failures: 2, locked_until: 0, updated_at: T0 })
        .execute();
      const older = `older-${randomUUID()}`;
      await db
        .insertInto('login_throttles')
        .values({ account_key: older, failures: 2, locked_until: 0, updated_at: T0 })
        .execute();

      // The next open applies 0019, as an upgrade does.
      await (await backend.open()).close();
      expect(await columns()).toEqual(['generation', 'reserved']);
      const options = { staleBefore: T0 - MIN, now: T0, refuse: true };
      expect(await store.countLoginAttempt(before, SCHEDULE, options)).toEqual({
        counted: true,
        failures: 3,
        lockedUntil: 0,
        generation: '',
        reserved: 3,
      });
      // Its success forgets the count it covers, as before the migration.
      await store.forgetLoginAttempts(before, 3, '');
      expect(await store.getLoginThrottle(before)).toBeUndefined();
      // Places go on from the count: of two attempts on a count from before, the first's success leaves the second.
      const x = await store.countLoginAttempt(older, SCHEDULE, options);
      const y = await store.countLoginAttempt(older, SCHEDULE, options);
      expect([x, y]).toMatchObject([
        { failures: 3, reserved: 3 },
        { failures: 4, reserved: 4 },
      ]);
      await store.forgetLoginAttempts(older, 3, '');
      expect(await store.getLoginThrottle(older)).toMatchObject({ failures: 1 });
      // A row an instance of the release before inserts now (naming only the columns it knows) is of the run ''.
      const rolling = `rolling-${randomUUID()}`;
      await db
        .insertInto('login_throttles')
        .values({ account_key: rolling, failures: 1, locked_until: 0, updated_at: T0 })
        .execute();
      expect(await store.countLoginAttempt(rolling, SCHEDULE, options)).toMatchObject({
        failures: 2,
        generation: '',
        reserved: 2,
      });
      // Started anew, the count has a generation of its own, which another's does not share.
      const started = await store.countLoginAttempt(before, SCHEDULE, options);
      const other = await store.countLoginAttempt(`other-${randomUUID()}`, SCHEDULE, options);
      expect(started).toMatchObject({
        counted: true,
        failures: 1,
        generation: expect.stringMatching(/^.{16}$/),
        reserved: 1,
      });
      expect(other.counted && other.generation).not.toBe(started.counted && started.generation);
      // A success of the count from before the migration forgets nothing of it.
      await store.forgetLoginAttempts(before, 3, '');
      expect(await store.getLoginThrottle(before)).toMatchObject({ failures: 1 });
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
