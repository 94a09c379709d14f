/**
 * Test helper for migration tests: the databases to upgrade (SQLite in a temporary folder, PostgreSQL in a throwaway
 * schema when one answers), each opened both as a store and as a bare Kysely, and `migrateTo`, which moves one of
 * them to an older migration the way the store's own migrator moves it up, so that a test can write the rows an
 * older release left and let the next open upgrade them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import Database from 'better-sqlite3';
import { Migrator, sql, type Dialect, type Kysely, type MigrationResultSet } from 'kysely';
import { afterAll } from 'vitest';

import { migrationProvider } from '../../src/store/migrations/index.js';
import { openStore } from '../../src/store/open.js';
import { createPostgresDialect } from '../../src/store/postgres.js';
import type { DialectName, Schema } from '../../src/store/schema.js';
import { createSqliteDialect } from '../../src/store/sqlite.js';
import type { Store } from '../../src/store/store.js';
import { requirePostgres, type TestSchema } from './postgres.js';

/** Which database a migration runs on: its dialect and, on PostgreSQL, the schema holding Kysely's migration tables. */
export interface MigrationTarget {
  dialect: DialectName;
  migrationTableSchema?: string;
}

/** One database under test: `open` opens a store on it (which migrates it up to the latest), `kysely` a bare dialect. */
export interface MigrationBackend extends MigrationTarget {
  open(): Promise<Store>;
  kysely(): Dialect;
}

/**
 * SQLite, and PostgreSQL when it answers, each store's clock at `now`; both are removed after the file's tests.
 * Without PostgreSQL, CI (or a pg driver that does not load) throws; elsewhere the PostgreSQL backend is left out
 * with a warning naming `title`.
 */
export async function migrationBackends(title: string, now: number): Promise<MigrationBackend[]> {
  const dir = mkdtempSync(join(tmpdir(), 'jot-migrations-'));
  const file = join(dir, 'jot.db');
  const pgSchema = await requirePostgres(title);

  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await pgSchema?.drop();
  });

  const backends: MigrationBackend[] = [
    {
      dialect: 'sqlite',
      open: () => openStore({ url: file, dataDir: dir, now: () => now }),
      kysely: () => createSqliteDialect(file),
    },
  ];
  if (pgSchema !== undefined) {
    const schema: TestSchema = pgSchema;
    backends.push({
      dialect: 'postgres',
      open: () =>
        openStore({ url: schema.url, dataDir: dir, postgres: { schema: schema.schema }, now: () => now }),
      kysely: () => createPostgresDialect(schema.url, { schema: schema.schema, poolMax: 1 }),
      migrationTableSchema: schema.schema,
    });
  }
  return backends;
}

/**
 * Migrates `target`'s database through `db` to the migration named `version` — down, when later ones are applied
 * (the latest going down first) — and resolves to Kysely's result set, for the test to check.
 */
export function migrateTo(
  db: Kysely<Schema>,
  target: MigrationTarget,
  version: string,
): Promise<MigrationResultSet> {
  const migrator = new Migrator({
    db,
    provider: migrationProvider(target.dialect),
    allowUnorderedMigrations: true,
    ...(target.migrationTableSchema === undefined
      ? {}
      : { migrationTableSchema: target.migrationTableSchema }),
  });
  return migrator.migrateTo(version);
}

/**
 * The plan of the query `text` as one string: SQLite's `explain query plan`, read through a second, read-only
 * connection to the same file; PostgreSQL's `explain (costs off)` with sequential scans off for its transaction (a
 * small table reads faster in full: with them off, the plan shows whether an index can serve).
 */
export async function queryPlan(target: MigrationTarget, db: Kysely<Schema>, text: string): Promise<string> {
  if (target.dialect === 'sqlite') {
    const file = (
      await sql<{ file: string }>`select file from pragma_database_list where name = 'main'`.execute(db)
    ).rows[0]!.file;
    const bare = new Database(file, { readonly: true });
    try {
      return (bare.prepare(`explain query plan ${text}`).all() as { detail: string }[])
        .map((row) => row.detail)
        .join('\n');
    } finally {
      bare.close();
    }
  }
  return db.transaction().execute(async (tx) => {
    await sql`set local enable_seqscan = off`.execute(tx);
    const { rows } = await sql<{ 'QUERY PLAN': string }>`${sql.raw(`explain (costs off) ${text}`)}`.execute(
      tx,
    );
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}
