/**
 * Runs the store conformance suite against SQLite (a temp directory) and Postgres (a throwaway schema),
 * plus the few things that are specific to one backend.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { openStore } from '../src/store/open.js';
import { parseDatabaseUrl } from '../src/store/database-url.js';
import { createTestSchema } from './support/postgres.js';
import { describeStoreConformance } from './support/store-suite.js';

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'jot-store-'));
}

describeStoreConformance('sqlite', () => {
  const dir = tempDir();
  return Promise.resolve({
    open: () => openStore({ dataDir: join(dir, 'nested', 'data') }),
    teardown: () => Promise.resolve(rmSync(dir, { recursive: true, force: true })),
  });
});

const pg = await createTestSchema();
if ('error' in pg) {
  const message = pg.broken
    ? `${pg.error}. Under Vitest this happens when Node runs with "--conditions import" (pg's CommonJS build then ` +
      `require()s pg-pool's ESM build); vitest.config.ts must set ssr.resolve.conditions without "import".`
    : `Postgres at 127.0.0.1:5432 (database "test") is unreachable: ${pg.error}`;
  if (process.env.CI || pg.broken) {
    describe('store conformance: postgres', () => {
      it('needs a working, reachable Postgres', () => {
        throw new Error(message);
      });
    });
  } else {
    console.warn(`\n⚠ SKIPPING the Postgres store conformance suite. ${message}\n`);
    describe.skip('store conformance: postgres (unreachable)', () => {
      it('skipped', () => undefined);
    });
  }
} else {
  describeStoreConformance('postgres', () =>
    Promise.resolve({
      open: () => openStore({ url: pg.url, dataDir: tempDir(), postgres: { schema: pg.schema } }),
      teardown: () => pg.drop(),
    }),
  );
}

describe('store: sqlite specifics', () => {
  it('creates a missing data directory and turns on WAL and foreign keys', async () => {
    const dir = tempDir();
    try {
      const dataDir = join(dir, 'a', 'b');
      const store = await openStore({ dataDir });
      await store.close();
      expect(statSync(join(dataDir, 'jot.db')).isFile()).toBe(true);
      const db = new Database(join(dataDir, 'jot.db'));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('opens an in-memory database', async () => {
    const store = await openStore({ url: ':memory:', dataDir: '/nonexistent' });
    expect(store.dialect).toBe('sqlite');
    expect(await store.listUsers({ limit: 1 })).toEqual([]);
    await store.close();
  });

  it('enforces foreign keys (cascade from users to sessions)', async () => {
    const store = await openStore({ url: ':memory:', dataDir: '/nonexistent' });
    await expect(store.createSession({ userId: 'nobody', absoluteExpiresAt: 1 })).rejects.toMatchObject({
      code: 'ERR_STORE_REFERENCE',
    });
    await store.close();
  });
});

describe('store: opening', () => {
  it('reports an unreachable Postgres as ERR_STORE_UNAVAILABLE', async () => {
    await expect(
      openStore({ url: 'postgres://nobody@127.0.0.1:1/none', dataDir: tempDir() }),
    ).rejects.toMatchObject({ name: 'StoreError', code: 'ERR_STORE_UNAVAILABLE' });
  });

  it('reports a migration that cannot apply as ERR_STORE_MIGRATION, and leaves the file as it was', async () => {
    const dir = tempDir();
    try {
      // A database some other program created: our first migration collides with its "users" table.
      const foreign = new Database(join(dir, 'jot.db'));
      foreign.exec('CREATE TABLE users (id INTEGER PRIMARY KEY, note TEXT)');
      foreign.close();
      const err = await openStore({ dataDir: dir }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'StoreError', code: 'ERR_STORE_MIGRATION' });
      const after = new Database(join(dir, 'jot.db'), { readonly: true });
      const columns = after.prepare('PRAGMA table_info(users)').all() as { name: string }[];
      after.close();
      expect(columns.map((c) => c.name)).toEqual(['id', 'note']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('resolves database URLs', () => {
    expect(parseDatabaseUrl(undefined, 'data', '/srv')).toEqual({
      dialect: 'sqlite',
      filename: '/srv/data/jot.db',
    });
    expect(parseDatabaseUrl('postgresql://u@h/db', 'data')).toEqual({
      dialect: 'postgres',
      connectionString: 'postgresql://u@h/db',
    });
    expect(parseDatabaseUrl(':memory:', 'data')).toEqual({ dialect: 'sqlite', filename: ':memory:' });
    expect(parseDatabaseUrl('sqlite:db/x.db', 'data', '/srv')).toEqual({
      dialect: 'sqlite',
      filename: '/srv/db/x.db',
    });
    expect(parseDatabaseUrl('file:///var/x.db', 'data')).toEqual({
      dialect: 'sqlite',
      filename: '/var/x.db',
    });
    expect(() => parseDatabaseUrl('mysql://u@h/db', 'data')).toThrow(TypeError);
  });
});
