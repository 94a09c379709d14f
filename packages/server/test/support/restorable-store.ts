/**
 * Test helper: a store whose database can be backed up and restored, as an operator would, for the revocation-feed
 * tests of a database that went back. SQLite is restored as the docs say to back it up: a copy of the file taken
 * while the server was stopped. PostgreSQL is brought to the state a restore or a lagging replica leaves: the later
 * rows gone and the id sequence back at the last id kept.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import type { TestSchema } from './postgres.js';

/** A store and its backup. */
export interface Restorable {
  /** The store as it is now (a restore opens another). */
  store(): Store;
  /** Remembers the database as it is now (a backup). */
  backup(): Promise<void>;
  /** Brings the database back to the backup. */
  restore(): Promise<void>;
  done(): Promise<void>;
}

/** A SQLite file, backed up and restored by copying it while the store is closed. */
export async function sqliteRestorable(): Promise<Restorable> {
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
}

/** The `revocations` table of a PostgreSQL test schema, emptied first; a restore drops the later rows. */
export async function postgresRestorable(pg: TestSchema): Promise<Restorable> {
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
}
