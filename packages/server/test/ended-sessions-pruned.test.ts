/**
 * Sessions are pruned once they have been over for `JOT_SESSION_RETENTION`: before, every session ever created stayed
 * in `sessions` forever with all its `refresh_tokens` rows (only a revocation deleted a session's tokens). The sweep
 * deletes a session — revoked, past its absolute expiry, or idle past its timeout — and its refresh tokens once it
 * ended more than the retention ago, never a live one nor one that ended within it; in bounded batches (tokens first,
 * so no statement cascades into a long session's whole chain); concurrently on several instances; found through
 * migration 0017's index on the session's end. On SQLite and PostgreSQL.
 */
import { createHash, randomUUID } from 'node:crypto';

import { Kysely, sql } from 'kysely';
import { describe, expect, it } from 'vitest';

import { sessionEnd } from '../src/store/migrations/0017_session_end_index.js';
import type { Schema } from '../src/store/schema.js';
import type { Store } from '../src/store/store.js';
import { migrateTo, migrationBackends, queryPlan, type MigrationBackend } from './support/migrations.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const RETENTION = 30 * DAY;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const backends = await migrationBackends('ended-session pruning', T0);

/** A session of a new user with `tokens` refresh tokens (the first ones rotated, as a refreshing client leaves them). */
async function sessionWithTokens(
  store: Store,
  input: { absoluteExpiresAt: number; idleTimeoutMs?: number },
  tokens: number,
  at = T0,
): Promise<string> {
  const user = await store.createUser({ email: `pruned-${randomUUID()}@example.com`, passwordHash: 'h' }, at);
  const session = await store.createSession({ userId: user.id, ...input }, at);
  let hash = sha256(randomUUID());
  if (tokens > 0)
    await store.insertRefreshToken({ tokenHash: hash, sessionId: session.id, generation: 1 }, at);
  for (let i = 1; i < tokens; i++) {
    const next = { hash: sha256(randomUUID()), ciphertext: `c${i}`, generation: i + 1 };
    expect((await store.rotateRefreshToken(hash, next, at + i)).status).toBe('rotated');
    hash = next.hash;
  }
  return session.id;
}

async function tokenCount(db: Kysely<Schema>, sessionId: string): Promise<number> {
  const row = await db
    .selectFrom('refresh_tokens')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The plan of the sweep's search for ended sessions, as one string. */
async function plan(backend: MigrationBackend, db: Kysely<Schema>): Promise<string> {
  const end = sessionEnd(backend.dialect).compile(db).sql;
  return queryPlan(backend, db, `select id from sessions where ${end} < ${T0} order by ${end} limit 10`);
}

describe.each(backends)('pruning ended sessions: $dialect', (backend) => {
  it('deletes the sessions that ended more than the retention ago with their refresh tokens, and nothing else', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const revoked = await sessionWithTokens(store, { absoluteExpiresAt: T0 + 90 * DAY }, 0);
      await store.revokeSession(revoked, 'logout', T0);
      const expired = await sessionWithTokens(store, { absoluteExpiresAt: T0 + HOUR }, 5);
      const idle = await sessionWithTokens(
        store,
        { absoluteExpiresAt: T0 + 90 * DAY, idleTimeoutMs: HOUR },
        3,
      );
      const now = T0 + HOUR + RETENTION + 1;
      // Live, with old rotations: created long before the others ended.
      const live = await sessionWithTokens(
        store,
        { absoluteExpiresAt: T0 + 90 * DAY, idleTimeoutMs: 30 * DAY },
        4,
      );
      expect(await store.touchLiveSession(live, T0 + 20 * DAY)).toBeDefined();
      expect(await store.touchLiveSession(live, now - MIN)).toBeDefined();
      // Ended, but within the retention: revoked a day ago; idle since 10 days after T0.
      const recentlyRevoked = await sessionWithTokens(store, { absoluteExpiresAt: T0 + 90 * DAY }, 0);
      await store.revokeSession(recentlyRevoked, 'logout', now - DAY);
      const recentlyIdle = await sessionWithTokens(
        store,
        { absoluteExpiresAt: T0 + 90 * DAY, idleTimeoutMs: 30 * DAY },
        2,
      );
      expect(await store.touchLiveSession(recentlyIdle, T0 + 10 * DAY)).toBeDefined();
      expect(await tokenCount(db, expired)).toBe(5);

      // A moment too early for the last two to go: only the revocation is a retention old.
      expect(await store.pruneEndedSessions(RETENTION, 100, T0 + HOUR + RETENTION - 1)).toEqual({
        refreshTokens: 0,
        sessions: 1,
      });
      expect(await store.getSession(revoked)).toBeUndefined();
      expect(await store.getSession(expired)).toBeDefined();

      expect(await store.pruneEndedSessions(RETENTION, 100, now)).toEqual({
        refreshTokens: 5 + 3,
        sessions: 2,
      });
      for (const gone of [expired, idle]) {
        expect(await store.getSession(gone)).toBeUndefined();
        expect(await tokenCount(db, gone)).toBe(0);
      }
      for (const kept of [live, recentlyRevoked, recentlyIdle])
        expect(await store.getSession(kept)).toBeDefined();
      expect(await tokenCount(db, live)).toBe(4);
      expect(await tokenCount(db, recentlyIdle)).toBe(2);
      // The live session is still live and rotates as before.
      expect(await store.touchLiveSession(live, now)).toMatchObject({ id: live, revokedAt: null });
      expect(await store.pruneEndedSessions(RETENTION, 100, now)).toEqual({ refreshTokens: 0, sessions: 0 });
    } finally {
      await db.destroy();
      await store.close();
    }
  });

  it('works in bounded batches: a session goes only once a batch has deleted all its refresh tokens', async () => {
    const store = await backend.open();
    try {
      const at = T0 - 400 * DAY;
      const long = await sessionWithTokens(store, { absoluteExpiresAt: at + HOUR }, 5, at);
      const bare = await sessionWithTokens(store, { absoluteExpiresAt: at + HOUR + 1 }, 0, at);
      const now = at + HOUR + RETENTION + 10;
      const batches = [];
      for (let i = 0; i < 4; i++) batches.push(await store.pruneEndedSessions(RETENTION, 2, now));
      expect(batches).toEqual([
        { refreshTokens: 2, sessions: 1 },
        { refreshTokens: 2, sessions: 0 },
        { refreshTokens: 1, sessions: 1 },
        { refreshTokens: 0, sessions: 0 },
      ]);
      expect(await store.getSession(bare)).toBeUndefined();
      expect(await store.getSession(long)).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('is safe on several instances at once: concurrent sweeps delete every ended row once, without an error', async () => {
    const stores = [await backend.open(), await backend.open(), await backend.open()];
    try {
      const at = T0 - 300 * DAY;
      const ended: string[] = [];
      for (let i = 0; i < 12; i++) {
        ended.push(await sessionWithTokens(stores[0]!, { absoluteExpiresAt: at + HOUR + i }, 3, at));
      }
      const now = at + HOUR + RETENTION + 100;
      let refreshTokens = 0;
      let sessions = 0;
      for (let round = 0; round < 20 && sessions < ended.length; round++) {
        const results = await Promise.all(stores.map((store) => store.pruneEndedSessions(RETENTION, 5, now)));
        for (const result of results) {
          refreshTokens += result.refreshTokens;
          sessions += result.sessions;
        }
      }
      expect({ refreshTokens, sessions }).toEqual({ refreshTokens: 12 * 3, sessions: 12 });
      for (const id of ended) expect(await stores[1]!.getSession(id)).toBeUndefined();
    } finally {
      for (const store of stores) await store.close();
    }
  });

  it('migration 0017 adds the index on the end of a session (and down drops it); the sweep searches by it', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      if (backend.dialect === 'postgres') await sql`set enable_seqscan = off`.execute(db);
      expect(await plan(backend, db)).toContain('sessions_end_idx');
      const down = await migrateTo(db, backend, '0016_one_open_invitation');
      expect(down.error).toBeUndefined();
      // (Later migrations go down first; 0017 last.)
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0017_session_end_index');
      expect(await plan(backend, db)).not.toContain('sessions_end_idx');
      // The next open applies 0017, as an upgrade does.
      await (await backend.open()).close();
      expect(await plan(backend, db)).toContain('sessions_end_idx');
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
