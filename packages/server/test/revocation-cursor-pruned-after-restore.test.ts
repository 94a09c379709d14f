/**
 * A reader whose cursor's own entry is no longer stored cannot be judged by the entry's tag. Regression: such a
 * cursor was judged by its id alone, so a verifier away long enough for its entry to be pruned (a `jti` entry goes
 * about one access-token lifetime after its token) resumed after a database restore that had handed the ids at and
 * below its cursor out again — and never saw the new entries below its cursor (their tokens accepted until they
 * expired). Cursors now carry their entry's creation time too (store/feed-cursor.ts): when the entry is gone, the
 * nearest stored entry below it must not have been created later than that, give or take
 * `FEED_CURSOR_CLOCK_TOLERANCE_MS`, or the answer is a snapshot.
 */
import { afterAll, describe, expect, it } from 'vitest';

import { FEED_CURSOR_CLOCK_TOLERANCE_MS, type FeedCursor, type RevocationPage } from '../src/store/index.js';
import type { Store } from '../src/store/store.js';
import { requirePostgres } from './support/postgres.js';
import { postgresRestorable, sqliteRestorable, type Restorable } from './support/restorable-store.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const LATER = T0 + 60 * MIN;

/** What a reader keeps after reading `page`, as the HTTP layer hands it out. */
const cursorOf = (page: RevocationPage): FeedCursor => ({
  id: page.cursor,
  tag: page.cursorTag,
  createdAt: page.cursorCreatedAt,
});

const subjects = (page: RevocationPage): string[] => page.entries.map((e) => e.subject);

const session = (store: Store, subject: string, at: number) =>
  store.addRevocation({ kind: 'sid', subject, expiresAt: LATER }, at);
/** A `jti` entry, pruned a minute after `at`. */
const shortLived = (store: Store, subject: string, at: number) =>
  store.addRevocation({ kind: 'jti', subject, expiresAt: at + MIN }, at);

function describePruned(name: string, open: () => Promise<Restorable>): void {
  describe(`a cursor whose entry was pruned: ${name}`, () => {
    it('is answered with a snapshot when the ids below it were handed out again, after a restore', async () => {
      const db = await open();
      try {
        await session(db.store(), 'kept', T0);
        await db.backup();
        await session(db.store(), 'lost', T0);
        await shortLived(db.store(), 'lost-jti', T0);
        const cursor = cursorOf(await db.store().listRevocationsSince(undefined, 100, T0));

        // Restored ten minutes later; a logout takes the lost ids, its short-lived entry (the cursor's id) expires and
        // is pruned before the reader comes back.
        await db.restore();
        const t1 = T0 + 10 * MIN;
        const logout = await session(db.store(), 'new', t1);
        const pruned = await shortLived(db.store(), 'new-jti', t1);
        expect(pruned.id).toBe(cursor.id);
        expect(logout.id).toBeLessThan(cursor.id);
        expect(await db.store().pruneExpiredRevocations(t1 + 2 * MIN)).toBe(1);

        const page = await db.store().listRevocationsSince(cursor, 100, t1 + 2 * MIN);
        expect(page.snapshot).toBe(true);
        expect(subjects(page)).toEqual(['kept', 'new']);
        // The snapshot's cursor is of this history: the next read resumes after it.
        await session(db.store(), 'next', t1 + 2 * MIN);
        const next = await db.store().listRevocationsSince(cursorOf(page), 100, t1 + 2 * MIN);
        expect(next.snapshot).toBe(false);
        expect(subjects(next)).toEqual(['next']);

        // Cursors of the release before (`<id>.<tag>`, and bare ids) carry no time: judged by the id, as they were.
        for (const old of [{ id: cursor.id, tag: cursor.tag }, cursor.id]) {
          const resumed = await db.store().listRevocationsSince(old, 100, t1 + 2 * MIN);
          expect(resumed.snapshot).toBe(false);
          expect(subjects(resumed)).toEqual(['next']);
        }
      } finally {
        await db.done();
      }
    });

    for (const [late, snapshot] of [
      [FEED_CURSOR_CLOCK_TOLERANCE_MS, false],
      [FEED_CURSOR_CLOCK_TOLERANCE_MS + 1, true],
    ] as const) {
      it(`${snapshot ? 'gives a snapshot' : 'resumes'} when the entry below it was created ${late} ms after it`, async () => {
        const db = await open();
        try {
          // One history: the entry below the cursor's was stamped later (an instance whose clock runs ahead, or the
          // cursor's entry waited for the table lock after reading the clock).
          await session(db.store(), 'early', T0);
          await session(db.store(), 'stamped-later', T0 + late);
          await shortLived(db.store(), 'cursor', T0);
          const cursor = cursorOf(await db.store().listRevocationsSince(undefined, 100, T0));
          await session(db.store(), 'after', T0);
          expect(await db.store().pruneExpiredRevocations(T0 + 2 * MIN)).toBe(1);

          const page = await db.store().listRevocationsSince(cursor, 100, T0 + 2 * MIN);
          expect(page.snapshot).toBe(snapshot);
          expect(subjects(page)).toEqual(snapshot ? ['early', 'stamped-later', 'after'] : ['after']);
        } finally {
          await db.done();
        }
      });
    }

    it('resumes a caught-up cursor past pruned newest entries, and keeps it, time and all', async () => {
      const db = await open();
      try {
        await session(db.store(), 's', T0);
        await shortLived(db.store(), 'newest', T0 + 1000);
        const cursor = cursorOf(await db.store().listRevocationsSince(undefined, 100, T0));
        expect(cursor.createdAt).toBe(T0 + 1000);
        expect(await db.store().pruneExpiredRevocations(T0 + 3 * MIN)).toBe(1);
        const page = await db.store().listRevocationsSince(cursor, 100, T0 + 3 * MIN);
        expect(page).toMatchObject({ entries: [], snapshot: false });
        expect(cursorOf(page)).toEqual(cursor);
      } finally {
        await db.done();
      }
    });

    it('answers a cursor whose stored entry has the tag but another creation time with a snapshot', async () => {
      const db = await open();
      try {
        await session(db.store(), 'a', T0);
        await session(db.store(), 'b', T0);
        const cursor = cursorOf(await db.store().listRevocationsSince(undefined, 100, T0));
        await session(db.store(), 'c', T0);
        expect((await db.store().listRevocationsSince(cursor, 100, T0)).snapshot).toBe(false);
        const altered = { ...cursor, createdAt: T0 - 60 * MIN };
        const page = await db.store().listRevocationsSince(altered, 100, T0);
        expect(page.snapshot).toBe(true);
        expect(subjects(page)).toEqual(['a', 'b', 'c']);
      } finally {
        await db.done();
      }
    });
  });
}

describePruned('sqlite (a copy of the file, taken while stopped)', sqliteRestorable);

const pg = await requirePostgres('a pruned feed cursor after a restore');
describe.runIf(pg !== undefined)('postgres', () => {
  afterAll(async () => {
    await pg?.drop();
  });
  describePruned('postgres (the schema restored whole, under the open store)', () => postgresRestorable(pg!));
});
