/**
 * PostgreSQL named prepared statements for the few statements on the hottest paths (a refresh's read, rotation and
 * sighting; a request's revocation check). Kysely sends every statement unnamed, so PostgreSQL parses and plans it
 * on each execution; for the refresh's five-table read that was 2 ms of planning against 0.4 ms of execution
 * (EXPLAIN ANALYZE), and PostgreSQL's backends spent more CPU per refresh than the whole server. A named statement
 * is parsed once per connection, and after five executions PostgreSQL keeps a generic plan when it is no dearer
 * than the custom ones (`plan_cache_mode = auto`), so planning goes too.
 *
 * Only statements whose result columns are listed explicitly (or are `row_to_json(…)`) are named: a cached plan
 * whose result type changes — `SELECT *` or `RETURNING *` after a migration adds a column — fails with "cached plan
 * must not change result type" on every later execution on that connection. Plans themselves are re-made by
 * PostgreSQL after any schema change, so a rolling upgrade that migrates under running instances is safe.
 *
 * Named statements live in a server connection: behind PgBouncer in transaction pooling mode they need
 * PgBouncer 1.21 or later with `max_prepared_statements` set (docs/deploy.md).
 */
import { createHash } from 'node:crypto';

import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** SQL text → statement name, for every statement declared named (see `precompiled`). */
const names = new Map<string, string>();

/**
 * Declares `text` a named statement: `jot_<label>_<digest of the text>`, so one name never stands for two texts
 * (pg refuses that) whatever the dialect or the build.
 */
export function nameStatement(label: string, text: string): void {
  if (names.has(text)) return;
  const digest = createHash('sha256').update(text).digest('hex').slice(0, 12);
  names.set(text, `jot_${label}_${digest}`);
}

/** The statement name `text` was declared with, if any. */
export function statementName(text: string): string | undefined {
  return names.get(text);
}

/**
 * `pool` as Kysely's PostgreSQL dialect sees it, except that a client sends the declared statements by name (pg
 * prepares a name once per connection and then only binds it). Everything else passes through unchanged.
 */
export function namingPool(pool: pg.Pool): PostgresPool {
  return {
    async connect(): Promise<PostgresPoolClient> {
      const client = await pool.connect();
      // Kysely calls `query` with a text and its values, or with a cursor object (passed on as is).
      const query = (text: string, values: unknown[] | undefined): unknown => {
        const name = typeof text === 'string' ? names.get(text) : undefined;
        return name === undefined ? client.query(text, values) : client.query({ name, text, values });
      };
      return {
        // pg's own `query` answers both of Kysely's overloads; this one only adds the name.
        query: query as unknown as PostgresPoolClient['query'],
        release: (destroy?: boolean) => client.release(destroy),
      };
    },
    end: () => pool.end(),
  };
}
