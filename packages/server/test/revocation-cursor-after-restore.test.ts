/**
 * A database restored from a backup (or a failover to a replica that had not received the last revocations) hands
 * the lost ids out again, to other entries. A reader whose cursor lies among those ids and comes back only after they
 * were handed out again must not resume after them — it would never see the new entries below its cursor, and would
 * accept the tokens they revoke until they expire. Cursors carry a tag of their entry (store/feed-cursor.ts): one
 * from the lost history is answered with a snapshot that holds the new entries.
 *
 * SQLite is restored as the docs say to back it up: a copy of the file taken while the server was stopped. PostgreSQL
 * is brought to the state a restore or a lagging replica leaves: the later rows gone and the id sequence back at the
 * last id kept.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { openStore } from '../src/store/open.js';
import type { FeedCursor, RevocationPage } from '../src/store/index.js';
import type { Store } from '../src/store/store.js';
import { createTestSchema } from './support/postgres.js';

const T0 = 1_800_000_000_000;
const LATER = T0 + 60 * 60_000;

/** What a reader keeps after reading `page`: the cursor and its tag, as the HTTP layer hands them out. */
const cursorOf = (page: RevocationPage): FeedCursor => ({ id: page.cursor, tag: page.cursorTag });

interface Restorable {
  /** The store as it is now. */
  store(): Store;
  /** Remembers the database as it is now (a backup). */
  backup(): Promise<void>;
  /** Brings the database back to the backup. */
  restore(): Promise<void>;
  done(): Promise<void>;
}

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

        // The cursor's own entry expires and is pruned: it is judged by its id, as an untagged one.
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

describeRestore('sqlite (a copy of the file, taken while stopped)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jot-feed-restore-'));
  const file = join(dir, 'jot.db');
  const copy = join(dir, 'backup.db');
  const openFile = () => openStore({ url: file, dataDir: dir });
  let store = await openFile();
  return {
    store: () => store,
    async backup() {
      await store.close();
      copyFileSync(file, copy);
      store = await openFile();
    },
    async restore() {
      await store.close();
      for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
      copyFileSync(copy, file);
      store = await openFile();
    },
    async done() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

const pg = await createTestSchema();
describe.runIf(!('error' in pg))('postgres', () => {
  afterAll(async () => {
    if (!('error' in pg)) await pg.drop();
  });
  describeRestore('postgres (later rows lost, the id sequence back)', async () => {
    if ('error' in pg) throw new Error(pg.error);
    const { default: Pg } = await import('pg');
    const admin = new Pg.Client({ connectionString: pg.url });
    await admin.connect();
    const table = `${pg.schema}.revocations`;
    const store = await openStore({ url: pg.url, dataDir: tmpdir(), postgres: { schema: pg.schema } });
    // Each test starts on an empty table with a fresh id sequence.
    await admin.query(`TRUNCATE ${table} RESTART IDENTITY`);
    let kept = 0;
    return {
      store: () => store,
      async backup() {
        const { rows } = await admin.query<{ max: number | null }>(`SELECT max(id) AS max FROM ${table}`);
        kept = Number(rows[0]?.max ?? 0);
      },
      async restore() {
        await admin.query(`DELETE FROM ${table} WHERE id > $1`, [kept]);
        await admin.query(`SELECT setval(pg_get_serial_sequence($1, 'id'), $2)`, [table, kept]);
      },
      async done() {
        await store.close();
        await admin.end();
      },
    };
  });
});
