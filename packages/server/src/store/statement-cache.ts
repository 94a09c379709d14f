/**
 * A bounded cache of prepared SQLite statements in front of better-sqlite3, so Kysely's one-`prepare`-per-query
 * does not re-compile the same SQL on every request (profiles showed re-preparing at 12–17 % of refresh and whoami
 * CPU). Kysely runs one query at a time on the single connection, so a cached statement is never used twice at
 * once; SQLite re-prepares a statement by itself when a migration changes the schema under it.
 */
import type { SqliteDatabase, SqliteStatement } from 'kysely';

import { RecencyMap } from '@jot/verify';

/** Distinct SQL texts kept; the store issues a few dozen, so this only bounds pathological callers. */
export const STATEMENT_CACHE_SIZE = 256;

/** Wraps `database` so `prepare(sql)` returns a cached statement for SQL it has seen (least recently used dropped). */
export function withStatementCache(database: SqliteDatabase, size = STATEMENT_CACHE_SIZE): SqliteDatabase {
  // Not a delete and re-insert per use: the hottest statements would pile holes into the Map (recency-map.ts).
  const statements = new RecencyMap<string, SqliteStatement>(size);
  return {
    prepare(sql: string): SqliteStatement {
      const cached = statements.get(sql);
      if (cached !== undefined) return cached;
      const statement = database.prepare(sql);
      statements.set(sql, statement);
      return statement;
    },
    close(): void {
      statements.clear();
      database.close();
    },
  };
}
