/**
 * Opening the store: pick the dialect from the URL, connect, bring the schema up to date.
 */
import { Kysely, Migrator } from 'kysely';
import { parseDatabaseUrl } from './database-url.js';
import { StoreError } from './errors.js';
import type { StoreLogger } from './logger.js';
import { migrationProvider } from './migrations/index.js';
import type { PostgresOptions } from './postgres.js';
import type { Schema } from './schema.js';
import { Store, type StoreChanges } from './store.js';
import { describeCause, translateError } from './translate-error.js';

/** Options of {@link openStore}. */
export interface OpenStoreOptions {
  /** `postgres://…`, a SQLite path, or `:memory:`; absent means `<dataDir>/jot.db`. */
  url?: string;
  /** Where the default SQLite file lives; created if missing. */
  dataDir: string;
  logger?: StoreLogger;
  /** Clock for every time the store stamps (epoch ms). @default Date.now */
  now?: () => number;
  /** Postgres-only settings (schema, pool size). */
  postgres?: PostgresOptions;
}

/**
 * Opens the store and runs pending migrations (idempotent: a second open applies nothing).
 * Concurrent opens of one database are safe: Kysely's migrator takes a lock.
 *
 * @throws {TypeError} for an unsupported URL.
 * @throws {StoreError} `ERR_STORE_UNAVAILABLE` when the database cannot be reached or opened,
 *   `ERR_STORE_REFUSED` when it refuses the connection (authentication, an unknown role or database),
 *   `ERR_STORE_MIGRATION` when a migration fails — each message naming the driver's cause.
 * @example
 * const store = await openStore({ dataDir: './data' });
 * await store.ping();
 */
export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const target = parseDatabaseUrl(options.url, options.dataDir);
  let db: Kysely<Schema> | undefined;
  try {
    // Each driver is loaded only when used: a SQLite deployment never loads pg, and the reverse.
    const dialect =
      target.dialect === 'postgres'
        ? (await import('./postgres.js')).createPostgresDialect(
            target.connectionString,
            options.postgres,
            options.logger,
          )
        : (await import('./sqlite.js')).createSqliteDialect(target.filename);
    db = new Kysely<Schema>({ dialect });
    // Migrations are numbered per feature and land in any order; each is independent of the ones numbered
    // after it, so a database that has 0006 may still receive 0005. With a schema, Kysely must look for its
    // bookkeeping tables in that schema: unqualified, it finds another schema's `kysely_migration_lock` (a
    // neighbour on the same database) and then fails to read its own.
    const schema = target.dialect === 'postgres' ? options.postgres?.schema : undefined;
    const migrator = new Migrator({
      db,
      provider: migrationProvider(target.dialect),
      allowUnorderedMigrations: true,
      ...(schema === undefined ? {} : { migrationTableSchema: schema }),
    });
    const { error, results = [] } = await migrator.migrateToLatest();
    for (const r of results) {
      if (r.status === 'Success') options.logger?.info(`store: applied migration ${r.migrationName}`);
    }
    if (error !== undefined) {
      const translated = translateError(error);
      if (translated instanceof StoreError) throw translated;
      throw new StoreError('ERR_STORE_MIGRATION', `database migration failed: ${describeCause(error)}`, {
        cause: error,
      });
    }
    const changes =
      target.dialect === 'postgres' ? await postgresChanges(target.connectionString, options) : undefined;
    return new Store(db, target.dialect, options.now, changes);
  } catch (err) {
    await db?.destroy().catch(() => undefined);
    throw translateError(err);
  }
}

/** A PostgreSQL store's change notifications: its channel, and LISTEN on it (loaded here, with pg). */
async function postgresChanges(connectionString: string, options: OpenStoreOptions): Promise<StoreChanges> {
  const [{ changeChannel }, { startChangeListener }] = await Promise.all([
    import('./postgres.js'),
    import('./change-listener.js'),
  ]);
  const channel = changeChannel(options.postgres?.schema);
  return {
    channel,
    listen: (handlers) => startChangeListener(connectionString, channel, handlers, options.logger),
  };
}
