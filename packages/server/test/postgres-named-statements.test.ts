/**
 * PostgreSQL named prepared statements (store/named-statements.ts): a refresh's hot statements are prepared once per
 * connection under their name and keep answering through many executions (PostgreSQL's generic plan), and a migration
 * that adds columns under a running instance does not break a connection that has already prepared them.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { refreshState } from '../src/store/joined.js';
import { openStore } from '../src/store/open.js';
import { createPostgresDialect } from '../src/store/postgres.js';
import { rotateRefreshTokenAtOnce } from '../src/store/refresh-tokens.js';
import type { Schema } from '../src/store/schema.js';
import { requirePostgres, type TestSchema } from './support/postgres.js';

const T0 = 1_700_000_000_000;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const pg = await requirePostgres('the PostgreSQL named statements');
const describePg = pg === undefined ? describe.skip : describe;

describePg('PostgreSQL named statements', () => {
  const schema = pg as TestSchema;
  const dir = mkdtempSync(join(tmpdir(), 'jot-named-'));
  // One connection, so the statements prepared by one call are the ones the next finds.
  let db: Kysely<Schema>;
  let sessionId: string;
  let hash: string;

  beforeAll(async () => {
    const store = await openStore({ url: schema.url, dataDir: dir, postgres: { schema: schema.schema } });
    const user = await store.createUser(
      { email: `named-${randomUUID()}@example.com`, passwordHash: 'h' },
      T0,
    );
    sessionId = (await store.createSession({ userId: user.id, absoluteExpiresAt: T0 + 3_600_000 }, T0)).id;
    hash = sha256('first');
    await store.insertRefreshToken({ tokenHash: hash, sessionId, generation: 0 }, T0);
    await store.close();
    db = new Kysely<Schema>({
      dialect: createPostgresDialect(schema.url, { schema: schema.schema, poolMax: 1 }),
    });
  });

  afterAll(async () => {
    await db?.destroy();
    await schema.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Reads the current token, rotates it, and checks both answers; returns the successor's hash. */
  async function refreshOnce(current: string, step: number): Promise<string> {
    const state = await refreshState(db, current, { since: T0, atMost: 10 });
    expect(state?.token).toMatchObject({ tokenHash: current, rotatedAt: null, generation: step });
    expect(state?.session.id).toBe(sessionId);
    const next = sha256(`token-${step + 1}`);
    const result = await rotateRefreshTokenAtOnce(
      db,
      current,
      { hash: next, ciphertext: 'sealed', generation: step + 1 },
      T0 + step + 1,
      sessionId,
    );
    expect(result).toMatchObject({
      status: 'rotated',
      token: { tokenHash: current, rotatedAt: T0 + step + 1, successorHash: next },
      successor: { tokenHash: next, generation: step + 1, rotatedAt: null },
      session: { id: sessionId, lastUsedAt: T0 + step + 1 },
    });
    return next;
  }

  it('prepares the refresh statements once under their names and answers through the generic plan', async () => {
    // More than five executions: PostgreSQL then considers a generic plan for a named statement.
    for (let step = 0; step < 8; step++) hash = await refreshOnce(hash, step);
    const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(db);
    const names = rows.map((row) => row.name);
    expect(names.some((name) => name.startsWith('jot_refresh_state_'))).toBe(true);
    expect(names.some((name) => name.startsWith('jot_rotate_'))).toBe(true);
    // A reused token reads as rotated, and rotating it again finds it so.
    const spent = await refreshState(db, sha256('first'), { since: T0, atMost: 10 });
    expect(spent?.token.rotatedAt).toBe(T0 + 1);
    expect(spent?.rotations).toBe(8);
  });

  it('prepares nothing when named statements are switched off (an old transaction-mode PgBouncer)', async () => {
    const unnamed = new Kysely<Schema>({
      dialect: createPostgresDialect(schema.url, {
        schema: schema.schema,
        poolMax: 1,
        namedStatements: false,
      }),
    });
    try {
      const state = await refreshState(unnamed, hash, { since: T0, atMost: 10 });
      expect(state?.token).toMatchObject({ tokenHash: hash, rotatedAt: null });
      const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(unnamed);
      expect(rows).toEqual([]);
    } finally {
      await unnamed.destroy();
    }
  });

  it('keeps answering on the same connection after a migration adds columns to the tables they read', async () => {
    for (const table of ['sessions', 'refresh_tokens', 'users', 'session_sightings', 'oauth_clients']) {
      await sql`alter table ${sql.table(table)} add column added_later text`.execute(db);
    }
    for (let step = 8; step < 11; step++) hash = await refreshOnce(hash, step);
    const { rows } = await sql<{ name: string }>`select name from pg_prepared_statements`.execute(db);
    expect(rows.filter((row) => row.name.startsWith('jot_refresh_state_'))).toHaveLength(1);
  });
});
