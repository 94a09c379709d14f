/**
 * The SQLite prepared-statement cache: one compile per distinct SQL text, bounded, and still correct when the schema
 * changes under a cached statement.
 */
import Database from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';
import { describe, expect, it } from 'vitest';

import { withStatementCache } from '../src/store/statement-cache.js';

function counting(database: SqliteDatabase): { database: SqliteDatabase; prepared: string[] } {
  const prepared: string[] = [];
  return {
    prepared,
    database: {
      prepare(sql: string): SqliteStatement {
        prepared.push(sql);
        return database.prepare(sql);
      },
      close: () => database.close(),
    },
  };
}

describe('SQLite statement cache', () => {
  it('compiles each distinct SQL text once and reuses the statement', () => {
    const probe = counting(new Database(':memory:'));
    const db = withStatementCache(probe.database);
    db.prepare('create table t (a integer)').run([]);
    for (let i = 0; i < 5; i++) db.prepare('insert into t (a) values (?)').run([i]);
    const rows = db.prepare('select a from t order by a').all([]);
    expect(rows).toEqual([0, 1, 2, 3, 4].map((a) => ({ a })));
    expect(probe.prepared.filter((sql) => sql.startsWith('insert'))).toHaveLength(1);
    db.close();
  });

  it('drops the least recently used statement beyond its bound', () => {
    const probe = counting(new Database(':memory:'));
    const db = withStatementCache(probe.database, 2);
    db.prepare('select 1').all([]);
    db.prepare('select 2').all([]);
    db.prepare('select 1').all([]); // 1 is now the most recent
    db.prepare('select 3').all([]); // evicts 2
    db.prepare('select 1').all([]);
    db.prepare('select 2').all([]);
    expect(probe.prepared).toEqual(['select 1', 'select 2', 'select 3', 'select 2']);
    db.close();
  });

  it('answers from the new schema when a migration changes a table under a cached statement', () => {
    const db = withStatementCache(new Database(':memory:'));
    db.prepare('create table t (a integer)').run([]);
    db.prepare('insert into t (a) values (?)').run([1]);
    expect(db.prepare('select * from t').all([])).toEqual([{ a: 1 }]);
    db.prepare('alter table t add column b text').run([]);
    db.prepare('update t set b = ?').run(['x']);
    expect(db.prepare('select * from t').all([])).toEqual([{ a: 1, b: 'x' }]);
    db.close();
  });
});
