/**
 * Migration 0019 (`login_throttles.generation`), on SQLite and PostgreSQL: a count from before it — or one an instance
 * of the release before starts during a rolling upgrade, naming only the columns it knows — is of the generation
 * `''`, and a success counted in it forgets it by count as before; a count started after it has a generation of its
 * own. Down drops the column. (How successes forget only in their own run: the store conformance suite.)
 */
import { randomUUID } from 'node:crypto';

import { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';

import type { Schema } from '../src/store/schema.js';
import { migrateTo, migrationBackends } from './support/migrations.js';

const T0 = Date.UTC(2034, 0, 1);
const MIN = 60_000;
const SCHEDULE = { freeFailures: 5, baseMs: MIN, maxMs: MIN };
const backends = await migrationBackends('migration 0019', T0);

describe.each(backends)('migration 0019 (login throttle generation): $dialect', (backend) => {
  it('a count from before it goes on as the generation "", forgotten by count; a new count draws its own', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const down = await migrateTo(db, backend, '0018_refresh_token_markers');
      expect(down.error).toBeUndefined();
      expect(down.results?.map((r) => r.migrationName)).toEqual(['0019_login_throttle_generation']);
      // What the release before leaves: a row without the column.
      const before = `before-${randomUUID()}`;
      await db
        .insertInto('login_throttles')
        .values({ account_key: before, failures: 2, locked_until: 0, updated_at: T0 })
        .execute();

      // The next open applies 0019, as an upgrade does.
      await (await backend.open()).close();
      const options = { staleBefore: T0 - MIN, now: T0, refuse: true };
      expect(await store.countLoginAttempt(before, SCHEDULE, options)).toEqual({
        counted: true,
        failures: 3,
        lockedUntil: 0,
        generation: '',
      });
      // Its success forgets the count it covers, as before the migration.
      await store.forgetLoginAttempts(before, 3, '');
      expect(await store.getLoginThrottle(before)).toBeUndefined();
      // Started anew, the count has a generation of its own, which another's does not share.
      const started = await store.countLoginAttempt(before, SCHEDULE, options);
      const other = await store.countLoginAttempt(`other-${randomUUID()}`, SCHEDULE, options);
      expect(started).toMatchObject({
        counted: true,
        failures: 1,
        generation: expect.stringMatching(/^.{16}$/),
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
