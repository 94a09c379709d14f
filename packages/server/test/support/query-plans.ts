/**
 * The plan a database would run a statement with, as one string, for tests that check a statement the store sends
 * uses its index: SQLite's `explain query plan` (a read-only connection of its own) and PostgreSQL's `explain`
 * (a client of its own, in the test's schema, after an `analyze` of the table so the planner sees its rows).
 */
import Database from 'better-sqlite3';
import pg from 'pg';

import type { TestSchema } from './postgres.js';

/** A statement's plan: `text` with its `parameters`. */
export type PlanOf = (text: string, parameters: readonly unknown[]) => Promise<string>;

/** The plan on the SQLite database in `file`. */
export function sqlitePlan(file: string): PlanOf {
  return (text, parameters) => {
    const db = new Database(file, { readonly: true });
    try {
      const rows = db.prepare(`explain query plan ${text}`).all(...parameters) as { detail: string }[];
      return Promise.resolve(rows.map((row) => row.detail).join('\n'));
    } finally {
      db.close();
    }
  };
}

/**
 * The plan on PostgreSQL in `schema`, `table` analysed first. `analyze: true` runs the statement (`explain analyze`):
 * the plan as run, with each node's actual row count.
 */
export function postgresPlan(schema: TestSchema, table: string, options: { analyze?: boolean } = {}): PlanOf {
  const explain =
    options.analyze === true
      ? 'explain (analyze, costs off, timing off, summary off)'
      : 'explain (costs off)';
  return async (text, parameters) => {
    const client = new pg.Client({ connectionString: schema.url });
    await client.connect();
    try {
      await client.query(`set search_path to ${schema.schema}`);
      await client.query(`analyze ${table}`);
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`${explain} ${text}`, [...parameters]);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    } finally {
      await client.end();
    }
  };
}
