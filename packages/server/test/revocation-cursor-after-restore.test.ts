/**
 * A database restored from a backup (or a failover to a replica that had not received the last revocations) hands
 * the lost ids out again, to other entries. A reader whose cursor lies among those ids and comes back only after they
 * were handed out again must not resume after them — it would never see the new entries below its cursor, and would
 * accept the tokens they revoke until they expire. Cursors carry a tag of their entry (store/feed-cursor.ts): one
 * from the lost history is answered with a snapshot that holds the new entries. (A cursor whose entry is no longer
 * stored: revocation-cursor-pruned-after-restore.test.ts. How each database is restored: support/restorable-store.ts.)
 */
import { afterAll, describe, expect, it } from 'vitest';

import type { FeedCursor, RevocationPage } from '../src/store/index.js';
import type { Store } from '../src/store/store.js';
import { requirePostgres } from './support/postgres.js';
import { postgresRestorable, sqliteRestorable, type Restorable } from './support/restorable-store.js';

const T0 = 1_800_000_000_000;
const LATER = T0 + 60 * 60_000;

/** What a reader keeps after reading `page`: the cursor, its tag and time, as the HTTP layer hands them out. */
const cursorOf = (page: RevocationPage): FeedCursor => ({
  id: page.cursor,
  tag: page.cursorTag,
  createdAt: page.cursorCreatedAt,
});

async function addSessions(store: Store, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await store.addRevocation({ kind: 'sid', subject: `${prefix}${i}`, expiresAt: LATER }, T0);
  }
}

function describeRestore(name: string, open: () => Promise<Restorable>): void {
  describe(`the revocation feed after a restore: ${name}`, () => {
    it('answers a cursor from the lost history with a snapshot holding the entries that reused its ids', async () => {
      const db = await open();
      try {
        await addSessions(db.store(), 'kept-', 2);
        await db.backup();
        await addSessions(db.store(), 'lost-', 3);
        const read = await db.store().listRevocationsSince(undefined, 100, T0);
        expect(read.entries.map((e) => e.subject)).toEqual([
          'kept-0',
          'kept-1',
          'lost-0',
          'lost-1',
          'lost-2',
        ]);
        const cursor = cursorOf(read);
        expect(cursor.tag).toMatch(/^[A-Za-z0-9_-]{11}$/);

        await db.restore();
        // Logouts after the restore: the same ids as the lost entries, other sessions.
        await addSessions(db.store(), 'new-', 3);

        const page = await db.store().listRevocationsSince(cursor, 100, T0);
        expect(page.snapshot).toBe(true);
        expect(page.entries.map((e) => e.subject)).toEqual(['kept-0', 'kept-1', 'new-0', 'new-1', 'new-2']);
        expect(page.cursor).toBe(cursor.id);
        expect(page.cursorTag).not.toBe(cursor.tag);
        // The new cursor belongs to this history: the next read resumes after it.
        await addSessions(db.store(), 'next-', 1);
        const next = await db.store().listRevocationsSince(cursorOf(page), 100, T0);
        expect(next.snapshot).toBe(false);
        expect(next.entries.map((e) => e.subject)).toEqual(['next-0']);

        // The bare id, as issued before cursors had tags, cannot tell the histories apart (what the tag is for).
        const untagged = await db.store().listRevocationsSince(cursor.id, 100, T0);
        expect(untagged.snapshot).toBe(false);
        expect(untagged.entries.map((e) => e.subject)).toEqual(['next-0']);
      } finally {
        await db.done();
      }
    });

    it('resumes a tagged cursor of its own history, also one whose entry was pruned since', async () => {
      const db = await open();
      try {
        await addSessions(db.store(), 's', 2);
        await db.store().addRevocation({ kind: 'jti', subject: 'short', expiresAt: T0 + 60_000 }, T0);
        const cursor = cursorOf(await db.store().listRevocationsSince(undefined, 100, T0));
        await addSessions(db.store(), 'after-', 1);
        const page = await db.store().listRevocationsSince(cursor, 100, T0);
        expect(page.snapshot).toBe(false);
        expect(page.entries.map((e) => e.subject)).toEqual(['after-0']);

        // The cursor's own entry expires and is pruned: the entry below it is no younger, so it resumes.
        expect(await db.store().pruneExpiredRevocations(T0 + 2 * 60_000)).toBe(1);
        const pruned = await db.store().listRevocationsSince(cursor, 100, T0 + 2 * 60_000);
        expect(pruned.snapshot).toBe(false);
        expect(pruned.entries.map((e) => e.subject)).toEqual(['after-0']);
      } finally {
        await db.done();
      }
    });

    it('answers a cursor with a forged tag for a stored entry with a snapshot, never with less', async () => {
      const db = await open();
      try {
        await addSessions(db.store(), 's', 3);
        const page = await db.store().listRevocationsSince({ id: 2, tag: 'AAAAAAAAAAA' }, 100, T0);
        expect(page.snapshot).toBe(true);
        expect(page.entries.map((e) => e.subject)).toEqual(['s0', 's1', 's2']);
      } finally {
        await db.done();
      }
    });
  });
}

describeRestore('sqlite (a copy of the file, taken while stopped)', sqliteRestorable);

const pg = await requirePostgres('a feed cursor after a restore');
describe.runIf(pg !== undefined)('postgres', () => {
  afterAll(async () => {
    await pg?.drop();
  });
  describeRestore('postgres (the schema restored whole, under the open store)', () =>
    postgresRestorable(pg!),
  );
});
