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
  database.pragma('journal_mode = WAL');
  database.pragma('foreign_keys = ON');
  database.pragma('synchronous = NORMAL');
  return new MigratingSqliteDialect({ database: withStatementCache(database) }, BUSY_TIMEOUT_MS);
}
