/**
 * PostgreSQL: an instance frozen inside a revocation transaction (a stopped process, a lost network) holds the
 * `revocations` table lock. Every other instance's revocation writes queued behind it without bound, holding a pool
 * connection each until the pool was exhausted and every request (and /readyz) answered 503. A revocation now waits
 * for that lock only briefly (then 503 `ERR_STORE_UNAVAILABLE`, its connection freed), and every pool session ends
 * itself when left idle inside a transaction (`idle_in_transaction_session_timeout`), which frees the lock a frozen
 * Jot instance held.
 */
import { tmpdir } from 'node:os';

import { Kysely, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import { openStore } from '../src/store/open.js';
import { createPostgresDialect } from '../src/store/postgres.js';
import { requirePostgres, type TestSchema } from './support/postgres.js';

const target = await requirePostgres('the stuck revocation lock test');

describe.runIf(target !== undefined)('a revocation table lock held by a frozen instance (PostgreSQL)', () => {
  const db = target as TestSchema;
  afterAll(async () => {
    await target?.drop();
  });

  it('fails revocations fast with ERR_STORE_UNAVAILABLE and keeps the pool answering', async () => {
    const store = await openStore({
      url: db.url,
      dataDir: tmpdir(),
      postgres: { schema: db.schema, poolMax: 4 },
    });
    const frozen = new pg.Client({ connectionString: db.url, options: `-c search_path=${db.schema}` });
    await frozen.connect();
    try {
      await frozen.query('BEGIN');
      await frozen.query('LOCK TABLE revocations IN EXCLUSIVE MODE');
      const started = Date.now();
      // More logouts than the pool has connections.
      const logouts = Array.from({ length: 6 }, (_, i) =>
        store.addRevocation({ kind: 'jti', subject: `j${i}`, expiresAt: Date.now() + 60_000 }).then(
          () => 'ok',
          (err: { code?: string }) => err.code,
        ),
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      await expect(store.ping()).resolves.toBeUndefined();
      const outcomes = await Promise.race([
        Promise.all(logouts),
        new Promise((resolve) => setTimeout(() => resolve('still waiting after 15 s'), 15_000)),
      ]);
      expect(outcomes).toEqual(Array(6).fill('ERR_STORE_UNAVAILABLE'));
      expect(Date.now() - started).toBeLessThan(15_000);
      // Once the holder is gone, revocations go through again.
      await frozen.query('ROLLBACK');
      await expect(
        store.addRevocation({ kind: 'jti', subject: 'after', expiresAt: Date.now() + 60_000 }),
      ).resolves.toMatchObject({ subject: 'after' });
    } finally {
      await frozen.end().catch(() => undefined);
      await store.close();
    }
  }, 30_000);

  it('ends a pool session left idle inside a transaction (idle_in_transaction_session_timeout)', async () => {
    const kysely = new Kysely({ dialect: createPostgresDialect(db.url, { schema: db.schema, poolMax: 1 }) });
    try {
      const { rows } = await sql<{ timeout: string }>`
        SELECT current_setting('idle_in_transaction_session_timeout') AS timeout`.execute(kysely);
      expect(rows[0]?.timeout).toBe('30s');
    } finally {
      await kysely.destroy();
    }
  });
});
