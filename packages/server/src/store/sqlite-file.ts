/**
 * The SQLite database file: created owner-only, and migrated by one process at a time.
 *
 * It holds password hashes and sealed keys: the file is created owner-only (0600) before SQLite opens it, whatever
 * the umask, and an existing file (with its `-wal` / `-shm` companions) that others can read is tightened to 0600.
 * SQLite gives the WAL and shared-memory files it creates the database file's permissions.
 *
 * Kysely's SQLite adapter takes no migration lock (one connection per process is no lock across processes), so
 * several processes opening one new file at once each ran the migrations and all but one failed ("table already
 * exists"). `MigratingSqliteDialect` runs the migrator in a `BEGIN IMMEDIATE` transaction: it takes SQLite's write
 * lock — waiting out `busy_timeout` while another process migrates — before the migrator reads which migrations
 * have run, so a second process finds them done.
 */
import { chmodSync, closeSync, existsSync, openSync, statSync } from 'node:fs';

import {
  CompiledQuery,
  sql,
  SqliteAdapter,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type SqliteDialectConfig,
} from 'kysely';

/** Whether `err` is the file system's "no such file" (the file went away between two calls). */
function isMissing(err: unknown): boolean {
  return err instanceof Error && (err as NodeJS.ErrnoException).code === 'ENOENT';
}

/**
 * Makes sure `filename` exists and it and its WAL companions are readable by the owner only. Another process over
 * the same file may delete the `-wal` / `-shm` companions at any moment (SQLite does when its last connection
 * closes), so a companion that is gone by the time it is looked at or tightened is skipped, not an error.
 */
export function secureSqliteFile(filename: string): void {
  if (filename === ':memory:') return;
  if (!existsSync(filename)) closeSync(openSync(filename, 'a', 0o600));
  for (const path of [filename, `${filename}-wal`, `${filename}-shm`]) {
    try {
      if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    } catch (err) {
      if (path === filename || !isMissing(err)) throw err;
    }
  }
}

/**
 * The `busy_timeout` from opening until the migrations are done: long enough for another process's migrations on
 * a loaded machine starting several instances (its write lock is held throughout them).
 */
export const MIGRATION_WAIT_MS = 120_000;

/** Whether `err` is SQLite's "database is locked" (better-sqlite3's `SqliteError`). */
function isBusy(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === 'SQLITE_BUSY';
}

/**
 * `BEGIN IMMEDIATE`, waiting for the write lock up to `MIGRATION_WAIT_MS` without blocking the event loop: SQLite's
 * own `busy_timeout` waits synchronously, so a holder in this very process (another server over the same file, a
 * transaction spanning an await) could never finish and the wait always ran out. Retries every 25–100 ms instead.
 */
async function beginImmediate(connection: DatabaseConnection): Promise<void> {
  const deadline = Date.now() + MIGRATION_WAIT_MS;
  await connection.executeQuery(CompiledQuery.raw('PRAGMA busy_timeout = 0'));
  try {
    for (let pause = 25; ; pause = Math.min(100, pause * 2)) {
      try {
        await connection.executeQuery(CompiledQuery.raw('begin immediate'));
        return;
      } catch (err) {
        if (!isBusy(err) || Date.now() + pause > deadline) throw err;
        await new Promise((resolve) => setTimeout(resolve, pause));
      }
    }
  } finally {
    await connection.executeQuery(CompiledQuery.raw(`PRAGMA busy_timeout = ${MIGRATION_WAIT_MS}`));
  }
}

/** Shared by a dialect's driver and adapter: whether the next transaction is the migrations'. */
interface MigrationState {
  next: boolean;
}

/** SQLite's driver, beginning the migrations' transaction with `BEGIN IMMEDIATE` (the others as Kysely does). */
class MigrationAwareDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly state: MigrationState,
  ) {
    super(config);
  }

  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    if (!this.state.next) return super.beginTransaction(connection);
    this.state.next = false;
    // The write lock before the migrator reads which migrations ran: a deferred BEGIN would read first, and its
    // first write would fail at once (SQLITE_BUSY) once another process had committed meanwhile.
    await beginImmediate(connection);
  }
}

/**
 * SQLite's adapter with a migration lock that holds across processes: the migrator runs in a transaction (SQLite's
 * DDL is transactional, a failed migration rolls back) that holds SQLite's write lock from its start.
 */
class MigrationLockingAdapter extends SqliteAdapter {
  constructor(
    private readonly state: MigrationState,
    private readonly busyTimeoutMs: number,
  ) {
    super();
  }

  override get supportsTransactionalDdl(): boolean {
    return true;
  }

  override async acquireMigrationLock(): Promise<void> {
    // Kysely begins the migrations' transaction on this connection right after this.
    this.state.next = true;
  }

  override async releaseMigrationLock(db: Kysely<unknown>): Promise<void> {
    this.state.next = false;
    await sql.raw(`PRAGMA busy_timeout = ${this.busyTimeoutMs}`).execute(db);
  }
}

/**
 * Kysely's SQLite dialect, with migrations serialised across processes. Open the database with
 * `busy_timeout = MIGRATION_WAIT_MS`; the migrations' end sets it to `busyTimeoutMs`.
 */
export class MigratingSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  readonly #state: MigrationState = { next: false };
  readonly #busyTimeoutMs: number;

  constructor(config: SqliteDialectConfig, busyTimeoutMs: number) {
    super(config);
    this.#config = config;
    this.#busyTimeoutMs = busyTimeoutMs;
  }

  override createDriver(): Driver {
    return new MigrationAwareDriver(this.#config, this.#state);
  }

  override createAdapter(): DialectAdapter {
    return new MigrationLockingAdapter(this.#state, this.#busyTimeoutMs);
  }
}
