/**
 * The SQLite side of the store: opens the file with better-sqlite3 and sets the pragmas every
 * connection needs before Kysely sees it.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

import { MIGRATION_WAIT_MS, MigratingSqliteDialect, secureSqliteFile } from './sqlite-file.js';
import type { Dialect } from 'kysely';
import { withStatementCache } from './statement-cache.js';

/** How long a writer waits for another process's write lock before SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** Between two attempts to switch a contended new file to WAL. */
const WAL_RETRY_MS = 25;

/** Whether `err` is SQLite's "database is locked" (`SQLITE_BUSY` or one of its extended codes). */
function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_BUSY');
}

/**
 * `journal_mode = WAL`, retried while SQLite answers "database is locked": with several processes opening one new
 * file at once, SQLite can refuse the switch at once without calling the busy handler (it would risk a deadlock), so
 * `busy_timeout` alone does not cover it (seen under load in sqlite-concurrent-open.test.ts). Synchronous like the
 * rest of the open (it blocks only while another process holds the file, at start), and bounded by the same wait as
 * the migrations.
 */
export function switchToWal(
  database: Pick<Database.Database, 'pragma'>,
  waitMs: number = MIGRATION_WAIT_MS,
): void {
  const deadline = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      database.pragma('journal_mode = WAL');
      return;
    } catch (err) {
      if (!isBusy(err) || Date.now() >= deadline) throw err;
      Atomics.wait(pause, 0, 0, WAL_RETRY_MS);
    }
  }
}

/**
 * A Kysely dialect over one better-sqlite3 connection. Kysely serialises queries and transactions
 * on it, so concurrent calls in one process never interleave inside a transaction.
 * The file's directory is created if missing.
 */
export function createSqliteDialect(filename: string): Dialect {
  if (filename !== ':memory:') mkdirSync(dirname(filename), { recursive: true, mode: 0o700 });
  secureSqliteFile(filename);
  const database = new Database(filename);
  // WAL lets readers run alongside the writer; busy_timeout makes a second process wait instead of failing;
  // foreign keys are off by default in SQLite and the schema relies on ON DELETE CASCADE.
  // busy_timeout first (the long wait until the migrations are done, then BUSY_TIMEOUT_MS): switching a new file
  // to WAL takes a lock another process opening it may hold.
  database.pragma(`busy_timeout = ${MIGRATION_WAIT_MS}`);
  switchToWal(database);
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  return new MigratingSqliteDialect({ database: withStatementCache(database) }, BUSY_TIMEOUT_MS);
}
