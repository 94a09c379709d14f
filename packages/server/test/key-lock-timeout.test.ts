/**
 * The key lock (`lock:signing_keys`, a PostgreSQL row lock held until commit) when its holder is stuck: an instance
 * that took it and then stopped talking to the database (a partition mid-tick, a frozen VM) leaves its backend
 * "idle in transaction". Another instance's emergency rotation must fail in bounded time (503-class
 * `ERR_STORE_UNAVAILABLE`) instead of hanging, its read-only refresh of the ring must not queue behind it, and
 * Jot's own lock transactions (the per-address invitation lock too) ask PostgreSQL to end a session that idles in
 * them.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';

import { createKeyManager } from '../src/keys/key-manager.js';
import type { KeyManagerConfig } from '../src/keys/key-manager.js';
import { openStore, type Store } from '../src/store/index.js';
import { LOCK_IDLE_LIMIT, LOCK_WAIT_LIMIT, takeLock } from '../src/store/cluster.js';
import { queueForAddress } from '../src/store/invitations.js';
import type { Schema } from '../src/store/schema.js';
import { createTestSchema, type TestSchema } from './support/postgres.js';

const MINUTE = 60_000;
let target: TestSchema;
let store: Store;
beforeAll(async () => {
  const t = await createTestSchema();
  if ('error' in t) throw new Error(t.error);
  target = t;
  store = await openStore({
    url: t.url,
    dataDir: mkdtempSync(join(tmpdir(), 'jot-key-lock-')),
    postgres: { schema: t.schema },
  });
});
afterAll(async () => {
  await store?.close();
  await target?.drop();
});

/** Whether `promise` settled within `ms`, and how. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([
    promise.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((resolve) => setTimeout(() => resolve('pending'), ms)),
  ]);
}

const config: KeyManagerConfig = {
  kek: randomBytes(32),
  signingAlg: 'ES256',
  accessTokenTtlMs: 15 * MINUTE,
  clockToleranceMs: 5_000,
  keyRotationIntervalMs: 30 * 24 * 60 * MINUTE,
  keyPrepublishMs: 60 * MINUTE,
  jwksMaxAgeMs: 10 * MINUTE,
};

it('an emergency rotation behind a stuck lock holder fails in bounded time, and a refresh does not wait for it', async () => {
  const keys = await createKeyManager({ store, config, tickIntervalMs: 0 });
  const hung = new pg.Client({ connectionString: target.url, options: `-c search_path=${target.schema}` });
  await hung.connect();
  try {
    await hung.query('BEGIN');
    await hung.query("UPDATE cluster_state SET value = value + 1 WHERE name = 'lock:signing_keys'");
    const rotation = keys.rotate({ immediate: true });
    const outcome = rotation.then(
      () => 'rotated',
      (err: unknown) => (err as { code?: string }).code,
    );
    expect(await settledWithin(keys.refresh(), 2_000)).toBe('resolved');
    expect(await settledWithin(outcome, 20_000)).toBe('resolved');
    expect(await outcome).toBe('ERR_STORE_UNAVAILABLE');
  } finally {
    await hung.query('ROLLBACK').catch(() => undefined);
    await hung.end();
    keys.close();
  }
  // Once the holder is gone the rotation goes through.
  const again = await createKeyManager({ store, config, tickIntervalMs: 0 });
  await expect(again.rotate({ immediate: true })).resolves.toMatchObject({ state: 'active' });
  again.close();
}, 40_000);

it("Jot's own lock transactions have PostgreSQL end a session idling in them", async () => {
  const db = new Kysely<Schema>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: target.url, options: `-c search_path=${target.schema}`, max: 1 }),
    }),
  });
  try {
    const seen = await db.transaction().execute(async (trx) => {
      await takeLock(trx, 'postgres', 'lock:signing_keys');
      const { rows } = await sql<{ idle_in_transaction_session_timeout: string }>`
        SHOW idle_in_transaction_session_timeout`.execute(trx);
      return rows[0]?.idle_in_transaction_session_timeout;
    });
    expect(seen).toBe(LOCK_IDLE_LIMIT);
  } finally {
    await db.destroy();
  }
});

it('the per-address invitation lock has the same wait and idle limits as the cluster locks', async () => {
  const db = new Kysely<Schema>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: target.url, options: `-c search_path=${target.schema}`, max: 1 }),
    }),
  });
  try {
    const seen = await db.transaction().execute(async (trx) => {
      await queueForAddress(trx, 'postgres', 'someone@example.com');
      const { rows } = await sql<{ idle: string; wait: string }>`
        SELECT current_setting('idle_in_transaction_session_timeout') AS idle,
          current_setting('lock_timeout') AS wait`.execute(trx);
      return rows[0];
    });
    expect(seen).toEqual({ idle: LOCK_IDLE_LIMIT, wait: LOCK_WAIT_LIMIT });
  } finally {
    await db.destroy();
  }
});
