/**
 * What Kysely's migrator is told about the database: the tables of the store's own schema (`current_schema()`, the
 * first of the `search_path` the pool sets) and nothing else. Kysely's PostgreSQL introspector reads every column of
 * every schema the role may use and calls `pg_get_serial_sequence` on each; a column or table another application
 * (or another Jot schema) drops at that moment makes the call fail ("column … does not exist"), and with it Jot's
 * start ("database migration failed") — seen with neighbours migrating on the same database. The migrator only asks
 * whether its own bookkeeping tables exist, so names are all it gets.
 */
import {
  sql,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type Dialect,
  type Kysely,
  type SchemaMetadata,
  type TableMetadata,
} from 'kysely';

class OwnSchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;

  constructor(db: Kysely<unknown>) {
    this.#db = db;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<SchemaMetadata>`SELECT nspname AS name FROM pg_catalog.pg_namespace`.execute(
      this.#db,
    );
    return rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const { rows } = await sql<{ schema: string; name: string; type: string }>`
      SELECT table_schema AS schema, table_name AS name, table_type AS type
        FROM information_schema.tables WHERE table_schema = current_schema()`.execute(this.#db);
    return rows.map((t) => ({ schema: t.schema, name: t.name, isView: t.type === 'VIEW', columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

/** `dialect`, introspecting only the store's own schema (see the file header). */
export function withOwnSchemaIntrospection(dialect: Dialect): Dialect {
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => dialect.createDriver(),
    createQueryCompiler: () => dialect.createQueryCompiler(),
    createIntrospector: (db) => new OwnSchemaIntrospector(db),
  };
}
