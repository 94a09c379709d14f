/**
 * The PostgreSQL restore of the test helper (support/restorable-store.ts) is what the restore tests stand on: it must
 * bring every table and sequence of the schema back, also a table no test names (as a new migration adds), with
 * foreign keys between them, and leave the open store working on its connections; its failover must leave the
 * sequences ahead, as a promoted replica's are. If it rolled back less, the
 * restore tests would pass on a database that never went back.
 */
import { randomUUID } from 'node:crypto';

import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';

import type { Store } from '../src/store/store.js';
import { requirePostgres } from './support/postgres.js';
import { SEQUENCE_LOGGED_AHEAD } from './support/postgres-schema-copy.js';
import { postgresRestorable } from './support/restorable-store.js';

const T0 = 1_800_000_000_000;
const LATER = T0 + 60 * 60_000;

/** Each table of `schema` and each sequence, with a digest of its rows (or its position): what a restore must bring back. */
async function contents(client: pg.Client, schema: string): Promise<Record<string, string>> {
  const { rows } = await client.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind::text AS kind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'S') ORDER BY c.relname`,
    [schema],
  );
  const seen: Record<string, string> = {};
  for (const { name, kind } of rows) {
    const from = `${schema}.${pg.escapeIdentifier(name)}`;
    const query =
      kind === 'S'
        ? `SELECT last_value::text || '/' || is_called::text AS digest FROM ${from}`
        : `SELECT count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') AS digest
             FROM ${from} t`;
    const result = await client.query<{ digest: string }>(query);
    seen[name] = result.rows[0]?.digest ?? '';
  }
  return seen;
}

async function userWithSession(store: Store, email: string): Promise<string> {
  const user = await store.createUser({ email, passwordHash: 'not-a-hash' }, T0);
  const session = await store.createSession({ userId: user.id, absoluteExpiresAt: LATER }, T0);
  await store.addSecurityEvent({ type: 'login', userId: user.id, sessionId: session.id }, T0);
  return session.id;
}

const server = await requirePostgres('the PostgreSQL restore helper');

describe.runIf(server !== undefined)('the PostgreSQL restore test helper', () => {
  const admin = new pg.Client({ connectionString: server?.url });
  afterAll(async () => {
    await admin.end();
    await server?.drop();
  });

  it('brings every table and sequence back, a table no code names too, under the open store', async () => {
    await admin.connect();
    const db = await postgresRestorable(server!);
    try {
      const store = db.store();
      const { schema } = db;
      // A table of a migration written after this test, with an identity column and a foreign key.
      await admin.query(`CREATE TABLE ${schema}.later_feature (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        user_id text NOT NULL REFERENCES ${schema}.users (id) ON DELETE CASCADE,
        note text NOT NULL)`);
      const kept = await userWithSession(store, 'kept@example.com');
      const keptUser = (await store.getSession(kept))!.userId;
      await admin.query(`INSERT INTO ${schema}.later_feature (user_id, note) VALUES ($1, 'kept')`, [
        keptUser,
      ]);
      await store.addRevocation({ kind: 'sid', subject: 'kept', expiresAt: LATER }, T0);
      await store.advanceClusterValue('redis:published', 1);
      await db.backup();
      const before = await contents(admin, schema);
      expect(Object.keys(before)).toEqual(
        expect.arrayContaining(['users', 'sessions', 'revocations', 'cluster_state', 'later_feature']),
      );

      // The lost history: rows added to every kind of table, a kept row gone, sequences and cursors moved on.
      await userWithSession(store, 'lost@example.com');
      await admin.query(`INSERT INTO ${schema}.later_feature (user_id, note) VALUES ($1, 'lost')`, [
        keptUser,
      ]);
      await store.revokeSession(kept, 'logout', T0);
      await store.deleteUser(keptUser);
      await store.addRevocation({ kind: 'sid', subject: 'lost', expiresAt: LATER }, T0);
      await store.advanceClusterValue('redis:published', 9);
      expect(await contents(admin, schema)).not.toEqual(before);

      await db.restore();
      expect(await contents(admin, schema)).toEqual(before);
      // The store goes on, on its own connections, in the restored history: ids handed out again.
      expect(await store.getClusterValue('redis:published')).toBe(1);
      expect((await store.getSession(kept))?.userId).toBe(keptUser);
      const next = await store.addRevocation({ kind: 'sid', subject: 'new', expiresAt: LATER }, T0);
      expect(next.id).toBe(2);
      await userWithSession(store, `new-${randomUUID()}@example.com`);
    } finally {
      await db.done();
    }
  });

  it('fails over as to a lagging replica: the tables back, the sequences on past every id handed out', async () => {
    const db = await postgresRestorable(server!);
    try {
      const store = db.store();
      await store.addRevocation({ kind: 'sid', subject: 'kept', expiresAt: LATER }, T0);
      await db.backup();
      await store.addRevocation({ kind: 'sid', subject: 'lost', expiresAt: LATER }, T0);
      await db.failover();
      const page = await store.listRevocationsSince(undefined, 10, T0);
      expect(page.entries.map((e) => e.subject)).toEqual(['kept']);
      const next = await store.addRevocation({ kind: 'sid', subject: 'new', expiresAt: LATER }, T0);
      expect(next.id).toBe(1 + SEQUENCE_LOGGED_AHEAD + 1);
    } finally {
      await db.done();
    }
  });

  it('refuses to restore without a backup, and a schema that gained a table since the backup', async () => {
    const db = await postgresRestorable(server!);
    try {
      await expect(db.restore()).rejects.toThrow(/before backup/);
      await db.store().addRevocation({ kind: 'sid', subject: 'kept', expiresAt: LATER }, T0);
      await db.backup();
      await admin.query(`CREATE TABLE ${db.schema}.after_backup (id int PRIMARY KEY)`);
      await db.store().addRevocation({ kind: 'sid', subject: 'lost', expiresAt: LATER }, T0);
      await expect(db.restore()).rejects.toThrow(
        /created after the backup cannot be restored by this helper: after_backup/,
      );
      // Nothing was half restored.
      const page = await db.store().listRevocationsSince(undefined, 10, T0);
      expect(page.entries.map((e) => e.subject)).toEqual(['kept', 'lost']);
    } finally {
      await db.done();
    }
  });
});
