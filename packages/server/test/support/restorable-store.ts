/**
 * Test helper: a store whose database can be backed up and restored, as an operator would, for the revocation-feed
 * tests of a database that went back. SQLite is restored as the docs say to back it up: a copy of the file taken
 * while the server was stopped. PostgreSQL is restored whole, every table and sequence of the test's schema, under
 * the open store: the state a restore or a lagging replica leaves, later rows gone and sequences back.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { openStore } from '../../src/store/open.js';
import type { Store } from '../../src/store/store.js';
import { schemaBeside, type TestSchema } from './postgres.js';
import { copySchema, SEQUENCE_LOGGED_AHEAD, type SchemaCopy } from './postgres-schema-copy.js';

/** A store and its backup. */
export interface Restorable {
  /** The store as it is now (a SQLite restore opens another; a PostgreSQL one keeps it open). */
  store(): Store;
  /** Remembers the database as it is now (a backup). */
  backup(): Promise<void>;
  /** Brings the database back to the backup. */
  restore(): Promise<void>;
  done(): Promise<void>;
}

/** A PostgreSQL one also names its schema, and can fail over. */
export interface PostgresRestorable extends Restorable {
  readonly schema: string;
  /**
   * Brings the database back as a failover to a replica that lacked the later rows leaves it: the tables as backed
   * up, every sequence `SEQUENCE_LOGGED_AHEAD` further on (as the replica replayed it from the WAL), so the lost
   * ids are never handed out again — unlike `restore()`, which sets them back as pg_dump's data does.
   */
  failover(): Promise<void>;
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

/**
 * A store in a PostgreSQL schema of its own, beside `server`'s (dropped by `done()` with its backup), restored as
 * an operator restores one: every table and sequence of the schema back as backed up (postgres-schema-copy.ts), in
 * one transaction while the store stays open on its connections, as a restore under running instances leaves them
 * (a failover breaks them too, which the pool mends by reconnecting; nothing else would differ). The store needs no
 * reopening: it keeps no copy of the database's state between statements, and the Redis mirror asks the database
 * whether it went back on every pass.
 */
export async function postgresRestorable(server: TestSchema): Promise<PostgresRestorable> {
  const { default: Pg } = await import('pg');
  const own = await schemaBeside(server);
  const admin = new Pg.Client({ connectionString: own.url });
  let store: Store;
  try {
    await admin.connect();
    store = await openStore({ url: own.url, dataDir: tmpdir(), postgres: { schema: own.schema } });
  } catch (err) {
    await admin.end().catch(() => undefined);
    await own.drop();
    throw err;
  }
  let copy: SchemaCopy | undefined;
  return {
    schema: own.schema,
    store: () => store,
    async backup() {
      await copy?.drop();
      copy = await copySchema(admin, own.schema, `${own.schema}_backup`);
    },
    async restore() {
      if (copy === undefined) throw new Error('restore() before backup()');
      await copy.restore();
    },
    async failover() {
      if (copy === undefined) throw new Error('failover() before backup()');
      await copy.restore({ sequencesAhead: SEQUENCE_LOGGED_AHEAD });
    },
    async done() {
      try {
        await store.close();
        await copy?.drop();
        await admin.end();
      } finally {
        await own.drop();
      }
    },
  };
}

/** {@link postgresRestorable} whose `restore()` is a failover (`PostgresRestorable.failover`). */
export async function postgresFailoverRestorable(server: TestSchema): Promise<Restorable> {
  const db = await postgresRestorable(server);
  return { ...db, restore: () => db.failover() };
}
