/**
 * Queries on the hot paths (every refresh, every authenticated request), built and compiled by Kysely once per
 * dialect and then only re-bound: query building showed at about a fifth of refresh CPU in profiles. The
 * SQL text is the same every time, so the prepared-statement cache (statement-cache.ts) hits too; on PostgreSQL a
 * query given a `named` label goes as a named prepared statement (named-statements.ts) — only for queries whose
 * result columns are listed explicitly.
 */
import { CompiledQuery, type Compilable, type Kysely } from 'kysely';

import { nameStatement } from './named-statements.js';
import type { Schema } from './schema.js';

type Db = Kysely<Schema>;

/**
 * A query built and compiled once per dialect with a stand-in for each named value; the function returned executes it
 * with real values (its first row). A stand-in is a unique string, found again among the compiled parameters, so its
 * position does not matter; one that is not found is a bug in `build` and throws. With `named`, PostgreSQL receives
 * it as a named prepared statement labelled so.
 */
export function precompiled<K extends string>(
  names: readonly K[],
  build: (db: Db, values: Record<K, string>) => Compilable<unknown>,
  options: { named?: string } = {},
): (db: Db, values: Record<K, unknown>) => Promise<Record<string, unknown> | undefined> {
  const compiled = new WeakMap<
    object,
    { sql: string; slots: readonly ({ name: K } | { value: unknown })[] }
  >();
  return async (db, values) => {
    // Keyed by the dialect adapter, which a transaction shares with its database: SQL differs only by dialect.
    const dialect = db.getExecutor().adapter;
    let query = compiled.get(dialect);
    if (query === undefined) {
      const standIns = Object.fromEntries(names.map((name) => [name, `\u0000jot:${name}`])) as Record<
        K,
        string
      >;
      const byStandIn = new Map<unknown, K>(names.map((name) => [standIns[name], name]));
      const { sql: text, parameters } = build(db, standIns).compile();
      query = {
        sql: text,
        slots: parameters.map((value) => {
          const name = byStandIn.get(value);
          return name === undefined ? { value } : { name };
        }),
      };
      const missing = names.filter((name) => !parameters.includes(standIns[name]));
      if (missing.length > 0) throw new Error(`precompiled query does not bind ${missing.join(', ')}`);
      if (options.named !== undefined) nameStatement(options.named, text);
      compiled.set(dialect, query);
    }
    const parameters = query.slots.map((slot) => ('name' in slot ? values[slot.name] : slot.value));
    const result = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(query.sql, parameters));
    return result.rows[0];
  };
}
