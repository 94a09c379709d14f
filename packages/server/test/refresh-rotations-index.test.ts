/**
 * The refresh's rotation count (the `refresh_anomaly` theft signal) on a long-lived session: migration 0011 moves
 * `refresh_tokens`' session index to `(session_id, rotated_at)` on an existing database (and back), and the count in
 * the refresh's joined read searches that index by both columns, so thousands of old rotations are never visited.
 * Checked on SQLite and PostgreSQL from the plan of the very statement the refresh sends.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely, sql, type Dialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

import { refreshState } from '../src/store/joined.js';
import { openStore } from '../src/store/open.js';
import { createPostgresDialect } from '../src/store/postgres.js';
import type { DialectName, Schema } from '../src/store/schema.js';
import { createSqliteDialect } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { migrateTo } from './support/migrations.js';
import { requirePostgres, type TestSchema } from './support/postgres.js';
import { postgresPlan, sqlitePlan } from './support/query-plans.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const OLD_ROTATIONS = 3000;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

/** One database under test: how to open the store on it, a bare Kysely on it, and the plan of a statement. */
interface Backend {
  dialect: DialectName;
  open(): Promise<Store>;
  kysely(): Dialect;
  /** On PostgreSQL, the schema holding Kysely's migration tables. */
  migrationTableSchema?: string;
  /** The plan of `text` with `parameters`, as one string. */
  plan(text: string, parameters: readonly unknown[]): Promise<string>;
  /** The index names of `refresh_tokens`. */
  indexes(db: Kysely<Schema>): Promise<string[]>;
}

const dir = mkdtempSync(join(tmpdir(), 'jot-rotations-'));
const file = join(dir, 'jot.db');
const pgSchema = await requirePostgres('the refresh rotations index');

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgSchema?.drop();
});

const sqliteBackend: Backend = {
  dialect: 'sqlite',
  open: () => openStore({ url: file, dataDir: dir }),
  kysely: () => createSqliteDialect(file),
  plan: sqlitePlan(file),
  indexes: async (db) =>
    (
      await sql<{
        name: string;
      }>`select name from sqlite_master where type = 'index' and tbl_name = 'refresh_tokens'`.execute(db)
    ).rows.map((row) => row.name),
};

function postgresBackend(schema: TestSchema): Backend {
  return {
    dialect: 'postgres',
    open: () => openStore({ url: schema.url, dataDir: dir, postgres: { schema: schema.schema } }),
    kysely: () => createPostgresDialect(schema.url, { schema: schema.schema, poolMax: 1 }),
    migrationTableSchema: schema.schema,
    plan: postgresPlan(schema, 'refresh_tokens', { analyze: true }),
    indexes: async (db) =>
      (
        await sql<{
          name: string;
        }>`select indexname as name from pg_indexes where tablename = 'refresh_tokens' and schemaname = current_schema()`.execute(
          db,
        )
      ).rows.map((row) => row.name),
  };
}

const backends: Backend[] = [sqliteBackend];
if (pgSchema !== undefined) backends.push(postgresBackend(pgSchema));

/**
 * A session with OLD_ROTATIONS rotated tokens long before T0 (bulk-inserted: their shape is all the plan needs),
 * then three real rotations at T0 + 1..3 min; the hash of its live token.
 */
async function longLivedSession(
  store: Store,
  db: Kysely<Schema>,
): Promise<{ sessionId: string; hash: string }> {
  const user = await store.createUser({ email: `long-${randomUUID()}@example.com`, passwordHash: 'h' }, T0);
  const session = await store.createSession({ userId: user.id, absoluteExpiresAt: T0 + 600 * MIN }, T0);
  await sql`with recursive seq(n) as (select 1 union all select n + 1 from seq where n < ${OLD_ROTATIONS})
    insert into refresh_tokens (token_hash, session_id, generation, created_at, rotated_at, successor_hash, successor_ciphertext)
    select ${session.id} || '-old-' || n, ${session.id}, n, cast(${T0 - 10 * OLD_ROTATIONS - MIN} as bigint) + 10 * n,
      cast(${T0 - 10 * OLD_ROTATIONS - MIN} as bigint) + 10 * n + 5, ${session.id} || '-old-' || (n + 1), 'c'
    from seq`.execute(db);
  let hash = sha256(randomUUID());
  await store.insertRefreshToken(
    { tokenHash: hash, sessionId: session.id, generation: OLD_ROTATIONS + 1 },
    T0,
  );
  for (let i = 1; i <= 3; i++) {
    const next = { hash: sha256(randomUUID()), ciphertext: `c${i}`, generation: OLD_ROTATIONS + 1 + i };
    const result = await store.rotateRefreshToken(hash, next, T0 + i * MIN, { touchSession: session.id });
    expect(result.status).toBe('rotated');
    hash = next.hash;
  }
  return { sessionId: session.id, hash };
}

describe.each(backends)('refresh rotation count on a long-lived session: $dialect', (backend) => {
  it('migrates an existing database to the (session_id, rotated_at) index and back, keeping its tokens', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const { hash } = await longLivedSession(store, db);
      expect(await backend.indexes(db)).toContain('refresh_tokens_session_rotated_idx');
      expect(await backend.indexes(db)).not.toContain('refresh_tokens_session_id_idx');

      // Down to where a database made before 0011 stands, then up again by the next open, as an upgrade does.
      // (Later migrations go down first; 0011 last.)
      const down = await migrateTo(db, backend, '0010_client_dpop');
      expect(down.error).toBeUndefined();
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0011_refresh_rotations_index');
      expect(await backend.indexes(db)).toContain('refresh_tokens_session_id_idx');
      expect(await backend.indexes(db)).not.toContain('refresh_tokens_session_rotated_idx');
      // The tokens are kept (read bare: this release's store reads columns of later migrations, gone down here).
      const kept = await db
        .selectFrom('refresh_tokens')
        .select(['token_hash', 'rotated_at'])
        .where('token_hash', '=', hash)
        .executeTakeFirst();
      expect(kept).toEqual({ token_hash: hash, rotated_at: null });

      const reopened = await backend.open();
      await reopened.close();
      expect(await backend.indexes(db)).toContain('refresh_tokens_session_rotated_idx');
      expect(await backend.indexes(db)).not.toContain('refresh_tokens_session_id_idx');
      expect((await store.getRefreshState(hash, T0))?.rotations).toBe(3);
      expect((await store.getRefreshState(hash, 0))?.rotations).toBe(OLD_ROTATIONS + 3);
    } finally {
      await db.destroy();
      await store.close();
    }
  });

  it('counts by searching the index on both columns, never visiting the old rotations', async () => {
    const store = await backend.open();
    const statements: { sql: string; parameters: readonly unknown[] }[] = [];
    const db = new Kysely<Schema>({
      dialect: backend.kysely(),
      log: (event) => {
        if (event.level === 'query') statements.push(event.query);
      },
    });
    try {
      const { hash } = await longLivedSession(store, db);
      statements.length = 0;
      const state = await refreshState(db, hash, { since: T0, atMost: 7 });
      expect(state?.rotations).toBe(3);
      expect(statements).toHaveLength(1);
      const plan = await backend.plan(statements[0]!.sql, statements[0]!.parameters);
      if (backend.dialect === 'sqlite') {
        expect(plan).toMatch(
          /SEARCH f USING (COVERING )?INDEX refresh_tokens_session_rotated_idx \(session_id=\? AND rotated_at>\?\)/,
        );
      } else {
        // The index search (plain or bitmap) hands back the three recent rotations and filters none out.
        const scan = plan.match(
          /Index (?:Only )?Scan (?:using|on) refresh_tokens_session_rotated_idx(?: on refresh_tokens f)? \(actual rows=(\d+) loops=1\)\n\s*Index Cond: \(\(session_id = s\.id\) AND \(rotated_at > [^)]+\)\)/,
        );
        expect(scan, plan).not.toBeNull();
        expect(scan![1]).toBe('3');
        expect(plan).not.toMatch(/Rows Removed by Filter/);
      }
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
