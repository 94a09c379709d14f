/**
 * What judging a feed cursor costs (store/feed-cursor.ts). A caught-up reader — every stream, on every turn — names
 * the newest entry, or an id past it once the newest entries were pruned: both are judged from the newest row the
 * page reads anyway, with no statement of their own. A reader further back costs one lookup, a single step down the
 * primary key (the entry at its cursor or, pruned, the nearest below it), whether its entry is stored or not.
 * Counted on SQLite and PostgreSQL from the statements the page sends, and the lookup's plan checked on each.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely, sql, type Dialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

import type { FeedCursor, RevocationPage } from '../src/store/index.js';
import { openStore } from '../src/store/open.js';
import { createPostgresDialect } from '../src/store/postgres.js';
import { listRevocationsSince } from '../src/store/revocations.js';
import type { DialectName, Schema } from '../src/store/schema.js';
import { createSqliteDialect } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { requirePostgres, type TestSchema } from './support/postgres.js';
import { postgresPlan, sqlitePlan } from './support/query-plans.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
/** Enough rows that PostgreSQL's planner would rather scan the table than use an index it cannot use. */
const ROWS = 2000;

interface Backend {
  dialect: DialectName;
  open(): Promise<Store>;
  kysely(): Dialect;
  /** The plan of `text` with `parameters`, as one string. */
  plan(text: string, parameters: readonly unknown[]): Promise<string>;
}

const dir = mkdtempSync(join(tmpdir(), 'jot-cursor-reads-'));
const file = join(dir, 'jot.db');
const pgSchema = await requirePostgres('judging a feed cursor');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgSchema?.drop();
});

const sqliteBackend: Backend = {
  dialect: 'sqlite',
  open: () => openStore({ url: file, dataDir: dir }),
  kysely: () => createSqliteDialect(file),
  plan: sqlitePlan(file),
};

function postgresBackend(schema: TestSchema): Backend {
  return {
    dialect: 'postgres',
    open: () => openStore({ url: schema.url, dataDir: dir, postgres: { schema: schema.schema } }),
    kysely: () => createPostgresDialect(schema.url, { schema: schema.schema, poolMax: 1 }),
    plan: postgresPlan(schema, 'revocations'),
  };
}

const backends: Backend[] = [sqliteBackend];
if (pgSchema !== undefined) backends.push(postgresBackend(pgSchema));

const cursorOf = (page: RevocationPage): FeedCursor => ({
  id: page.cursor,
  tag: page.cursorTag,
  createdAt: page.cursorCreatedAt,
});

/** Reads the feed through to its end, as a reader does; the cursor it ends at. */
async function readThrough(store: Store, from: FeedCursor | undefined, now: number): Promise<FeedCursor> {
  let cursor = from;
  for (;;) {
    const page = await store.listRevocationsSince(cursor, 1000, now);
    cursor = cursorOf(page);
    if (!page.hasMore) return cursor;
  }
}

describe.each(backends)('judging a feed cursor on $dialect', (backend) => {
  it('reads nothing more for a caught-up reader, and one primary-key step for one further back', async () => {
    const store = await backend.open();
    const statements: { sql: string; parameters: readonly unknown[] }[] = [];
    const db = new Kysely<Schema>({
      dialect: backend.kysely(),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query);
      },
    });
    /** The page after `cursor`, and the statements it sent. */
    const read = async (cursor: FeedCursor, now = T0) => {
      statements.length = 0;
      const page = await listRevocationsSince(db, backend.dialect, cursor, 100, now);
      return { page, sent: [...statements] };
    };
    try {
      await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${ROWS})
        insert into revocations (kind, subject, data, created_at, expires_at)
        select 'sid', 'bulk-' || n, '{}', cast(${T0} as bigint), cast(${T0 + 60 * MIN} as bigint) from seq`.execute(
        db,
      );
      const back = await readThrough(store, undefined, T0);
      await store.addRevocation({ kind: 'sid', subject: 'after-back', expiresAt: T0 + 60 * MIN }, T0);
      const head = await readThrough(store, back, T0);

      // Caught up: the high-water mark, the newest row, the page. Nothing of its own.
      const caughtUp = await read(head);
      expect(caughtUp.page).toMatchObject({ entries: [], snapshot: false, cursor: head.id });
      expect(caughtUp.sent).toHaveLength(3);

      // Further back: one lookup more.
      const behind = await read(back);
      expect(behind.page.snapshot).toBe(false);
      expect(behind.page.entries.map((e) => e.subject)).toEqual(['after-back']);
      expect(behind.sent).toHaveLength(4);

      // The newest entry was pruned: the caught-up cursor, past it, is judged from the row below, already read.
      const newest = await store.addRevocation({ kind: 'jti', subject: 'j', expiresAt: T0 + MIN }, T0);
      const atNewest = await readThrough(store, head, T0);
      expect(atNewest.id).toBe(newest.id);
      expect(await store.pruneExpiredRevocations(T0 + 2 * MIN)).toBe(1);
      const past = await read(atNewest, T0 + 2 * MIN);
      expect(past.page).toMatchObject({ entries: [], snapshot: false, cursor: newest.id });
      expect(past.sent).toHaveLength(3);

      // Behind a pruned entry: the same one lookup, which finds the nearest entry below in one step.
      const pruned = await store.addRevocation({ kind: 'jti', subject: 'k', expiresAt: T0 + 3 * MIN }, T0);
      const atPruned = await readThrough(store, atNewest, T0 + 2 * MIN);
      await store.addRevocation({ kind: 'sid', subject: 'after-pruned', expiresAt: T0 + 60 * MIN }, T0);
      expect(atPruned.id).toBe(pruned.id);
      expect(await store.pruneExpiredRevocations(T0 + 4 * MIN)).toBe(1);
      const resumed = await read(atPruned, T0 + 4 * MIN);
      expect(resumed.page.snapshot).toBe(false);
      expect(resumed.page.entries.map((e) => e.subject)).toEqual(['after-pruned']);
      expect(resumed.sent).toHaveLength(4);
      const lookup = resumed.sent.filter((s) => /where "id" <= /.test(s.sql));
      expect(lookup).toHaveLength(1);
      const plan = await backend.plan(lookup[0]!.sql, lookup[0]!.parameters);
      if (backend.dialect === 'sqlite') {
        expect(plan).toMatch(/^SEARCH revocations USING INTEGER PRIMARY KEY \(rowid<\?\)$/);
      } else {
        expect(plan).toMatch(/Index Scan Backward using revocations_pkey on revocations/);
        expect(plan).not.toMatch(/Sort|Seq Scan/);
      }
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
