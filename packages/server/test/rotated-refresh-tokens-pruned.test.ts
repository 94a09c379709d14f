/**
 * A live session's rotated refresh tokens are not kept until it ends. Before, every rotation left its row in
 * `refresh_tokens` for the session's whole life (up to 90 days, a row per access-token lifetime: thousands per active
 * session), only so that a rotated token presented again was found and judged reuse. Version-2 tokens carry their
 * family's marker under their tag (services/refresh-token-tags.ts), and the sweep deletes the rows of rotated marked
 * tokens once nothing reads them (store/refresh-token-pruning.ts). Checked here, on SQLite and PostgreSQL, through the
 * server's own sweep and routes:
 *
 * - the old rows go, the current token stays and refreshes; a pruned token presented again is still reuse (session
 *   revoked, `refresh_token_reuse` event, revocation-feed entry), also at the CSRF bootstrap and at RFC 7009 revocation;
 * - version-1 tokens (no marker) still refresh, rotate into version 2, and their rows are never pruned;
 * - a version-2 token of a session that ended and was swept is stale (401 ERR_REFRESH_TOKEN_INVALID, no event, no
 *   failure budget spent), as is one whose family was replaced by a password change;
 * - a marker two sessions' rows share (forced here in the database) names neither: stale, never a revocation;
 * - a tampered version-2 token is a guess: it spends the address's failure budget;
 * - the sweep itself: never a current token or an unmarked row, in bounded batches, on several instances at once.
 */
import { Buffer } from 'node:buffer';
import { createHash, createHmac, hkdfSync, randomBytes, randomInt, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely, sql, type Dialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';

import { createRefreshTokenTags } from '../src/services/refresh-token-tags.js';
import { pruneExpired, rotatedTokenKeepMs } from '../src/services/pruning.js';
import { openStore } from '../src/store/open.js';
import { createPostgresDialect } from '../src/store/postgres.js';
import type { Schema } from '../src/store/schema.js';
import { createSqliteDialect } from '../src/store/sqlite.js';
import type { Store } from '../src/store/store.js';
import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { postForm, registerClient } from './support/oauth.js';
import { migrateTo, migrationBackends, queryPlan } from './support/migrations.js';
import { requirePostgres } from './support/postgres.js';

const PASSWORD = 'correct horse battery';
const BUDGET = 4;
const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const sidUser = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { sub: string }).sub;
const sidOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string }).sid;

/** A version-1 token, as a release before version 2 issued it: 22 random bytes and their 10-byte tag. */
function v1Token(kek: Uint8Array): string {
  const key = Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), 'jot refresh token tag v1', 32));
  const random = randomBytes(22);
  const tag = createHmac('sha256', key).update(random).digest().subarray(0, 10);
  return Buffer.concat([random, tag]).toString('base64url');
}

const dir = mkdtempSync(join(tmpdir(), 'jot-rotated-pruned-'));
const sqliteFile = join(dir, 'jot.db');
const pgSchema = await requirePostgres('rotated refresh-token pruning');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgSchema?.drop();
});

interface Backend {
  dialect: string;
  open: (now: () => number) => Promise<Store>;
  kysely: () => Dialect;
}
const backends: Backend[] = [
  {
    dialect: 'sqlite',
    open: (now) => openStore({ url: sqliteFile, dataDir: dir, now }),
    kysely: () => createSqliteDialect(sqliteFile),
  },
];
if (pgSchema !== undefined) {
  const schema = pgSchema;
  backends.push({
    dialect: 'postgres',
    open: (now) => openStore({ url: schema.url, dataDir: dir, postgres: { schema: schema.schema }, now }),
    kysely: () => createPostgresDialect(schema.url, { schema: schema.schema, poolMax: 1 }),
  });
}

/** Rows of `refresh_tokens` of a session: how many, and how many carry a marker. */
async function rows(db: Kysely<Schema>, sessionId: string): Promise<{ all: number; marked: number }> {
  const list = await db
    .selectFrom('refresh_tokens')
    .select(['marker'])
    .where('session_id', '=', sessionId)
    .execute();
  return { all: list.length, marked: list.filter((row) => row.marker !== null).length };
}

describe.each(backends)('rotated refresh tokens are pruned while the session lives: $dialect', (backend) => {
  const serverDir = mkdtempSync(join(dir, `server-${backend.dialect}-`));

  /** A server on its own store and a bare Kysely on the same database, with a clock the test moves. */
  async function setUp(): Promise<{
    server: TestServer;
    store: Store;
    db: Kysely<Schema>;
    clock: { now: number };
    close: () => Promise<void>;
  }> {
    const clock = { now: Date.UTC(2031, 4, 6, 8, 0, 0) + randomInt(0, 1_000_000) * 1000 };
    const store = await backend.open(() => clock.now);
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    const server = await startServer(
      {
        rateLimitAuth: `${BUDGET}/60s`,
        refreshGraceWindow: '10s',
        refreshIdleTimeout: '2d',
        trustProxy: true,
      },
      // One data folder per database: its KEK sealed the signing keys the database holds.
      { clock: () => clock.now, store, dataDir: serverDir },
    );
    return {
      server,
      store,
      db,
      clock,
      close: async () => {
        await server.close({ keepData: true });
        await db.destroy();
        await store.close();
      },
    };
  }

  /** The server's own sweep, once. */
  async function sweep(server: TestServer): Promise<void> {
    const { jot } = server.app;
    const warnings: string[] = [];
    await pruneExpired({
      store: jot.store,
      revocations: jot.revocations,
      loginThrottle: jot.loginThrottle,
      sessionRetentionMs: jot.config.sessionRetentionMs,
      rotatedTokenKeepMs: rotatedTokenKeepMs({
        graceMs: jot.config.refreshGraceWindowMs,
        accessTokenTtlMs: jot.config.accessTokenTtlMs,
        clockToleranceMs: jot.config.clockToleranceMs,
      }),
      warn: (_err, what) => warnings.push(what),
    });
    expect(warnings).toEqual([]);
  }

  async function signIn(
    server: TestServer,
    email: string,
    delivery?: 'memory',
  ): Promise<{ access_token: string; refresh_token: string; cookie?: string; csrf_token?: string }> {
    const address = freshAddress();
    const reg = await server.request('POST', '/api/register', {
      body: { email, password: PASSWORD },
      headers: { 'x-forwarded-for': address },
    });
    if (reg.status !== 201 && reg.status !== 409) throw new Error(`register: ${reg.status} ${reg.text}`);
    const login = await server.request('POST', '/api/login', {
      body: { email, password: PASSWORD, ...(delivery === undefined ? {} : { delivery }) },
      headers: { 'x-forwarded-for': address },
    });
    expect(login.status, login.text).toBe(200);
    const cookie = login.headers
      .getSetCookie()
      .find((line) => line.startsWith('jot_rt='))
      ?.split(';')[0];
    return { ...login.body, ...(cookie === undefined ? {} : { cookie }) };
  }

  const refresh = (server: TestServer, token: string, address = freshAddress()): Promise<TestResponse> =>
    server.request('POST', '/api/token/refresh', {
      body: { refresh_token: token },
      headers: { 'x-forwarded-for': address },
    });

  /** Refreshes `times` times a minute apart; every token of the chain, oldest first, the current one last. */
  async function rotate(
    server: TestServer,
    clock: { now: number },
    first: string,
    times: number,
  ): Promise<string[]> {
    const chain = [first];
    for (let i = 0; i < times; i++) {
      clock.now += MIN;
      const res = await refresh(server, chain.at(-1)!);
      expect(res.status, res.text).toBe(200);
      chain.push(res.body.refresh_token as string);
    }
    return chain;
  }

  async function reuseEvents(store: Store, sessionId: string): Promise<Record<string, unknown>[]> {
    const events = await store.listSecurityEvents({ limit: 50, type: 'refresh_token_reuse' });
    return events.filter((e) => e.sessionId === sessionId).map((e) => e.detail as Record<string, unknown>);
  }

  it("a live session's old rotated rows go, its current token stays and refreshes; a pruned token used again is reuse", async () => {
    const { server, store, db, clock, close } = await setUp();
    try {
      const tokens = await signIn(server, 'long-lived@example.com');
      const sid = sidOf(tokens.access_token);
      const chain = await rotate(server, clock, tokens.refresh_token, 5);
      expect(await rows(db, sid)).toEqual({ all: 6, marked: 6 });

      // Within the keep time (grace window, one access-token lifetime, tolerance, margin) nothing goes.
      await sweep(server);
      expect(await rows(db, sid)).toEqual({ all: 6, marked: 6 });
      clock.now += HOUR;
      await sweep(server);
      expect(await rows(db, sid)).toEqual({ all: 1, marked: 1 });
      expect(await store.getRefreshToken(sha256(chain.at(-1)!))).toMatchObject({ rotatedAt: null });

      // The current token still refreshes.
      const next = await refresh(server, chain.at(-1)!);
      expect(next.status, next.text).toBe(200);

      // A pruned token presented again: reuse, as when its row was kept.
      const feedBefore = await store.listRevocationsSince(undefined, 500);
      const replay = await refresh(server, chain[2]!);
      expect(replay.status).toBe(401);
      expect(replay.body).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_TOKEN_REUSED' });
      expect(await store.getSession(sid)).toMatchObject({ revokedReason: 'refresh_token_reuse' });
      expect(await reuseEvents(store, sid)).toEqual([{ generation: null }]);
      const feed = await store.listRevocationsSince(feedBefore.cursor, 500);
      expect(feed.entries.filter((e) => e.kind === 'sid' && e.subject === sid)).toHaveLength(1);
      // The session is over for its owner too.
      const after = await refresh(server, next.body.refresh_token as string);
      expect(after.status).toBe(401);
      expect((await server.request('GET', '/api/whoami', { token: tokens.access_token })).status).toBe(401);
    } finally {
      await close();
    }
  });

  it('a pruned token is reuse at the CSRF bootstrap; RFC 7009 revocation or a refresh with it by another client is refused, as with a kept row', async () => {
    const { server, store, clock, close } = await setUp();
    try {
      // An admin of its own (the database's first account, the bootstrap admin, belongs to another test).
      const adminId = (await signIn(server, 'admin-of-revoker@example.com')).access_token;
      await store.setRoles(sidUser(adminId), ['admin']);
      const admin = (await signIn(server, 'admin-of-revoker@example.com')).access_token;
      const { client, client_secret } = await registerClient(server, admin, {
        name: 'revoker',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials', 'refresh_token'],
        audiences: ['https://api.example'],
      });
      // The CSRF bootstrap judges the refresh cookie as the refresh does.
      const browser = await signIn(server, 'reloads@example.com', 'memory');
      const sid = sidOf(browser.access_token);
      const first = browser.cookie!;
      clock.now += MIN;
      const res = await server.request('POST', '/api/token/refresh', {
        headers: { cookie: first, 'x-csrf-token': browser.csrf_token!, 'x-forwarded-for': freshAddress() },
        body: {},
      });
      expect(res.status, res.text).toBe(200);
      clock.now += HOUR;
      await sweep(server);
      expect(await store.getRefreshToken(sha256(first.slice('jot_rt='.length)))).toBeUndefined();
      const boot = await server.request('GET', '/api/token/refresh/csrf', {
        headers: { cookie: first, 'x-forwarded-for': freshAddress() },
      });
      expect(boot.status).toBe(401);
      expect(boot.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
      expect(await store.getSession(sid)).toMatchObject({ revokedReason: 'refresh_token_reuse' });
      expect(await reuseEvents(store, sid)).toHaveLength(1);

      // RFC 7009 looks a pruned token up too: it names its session, which here is not the revoking client's — the
      // same refusal as for the kept row (before: 200, the token unknown), and the session lives on.
      const other = await signIn(server, 'revoked-by-token@example.com');
      const otherChain = await rotate(server, clock, other.refresh_token, 1);
      clock.now += HOUR;
      await sweep(server);
      expect(await store.getRefreshToken(sha256(otherChain[0]!))).toBeUndefined();
      const basic = `Basic ${Buffer.from(`${client.client_id}:${client_secret!}`).toString('base64')}`;
      const revoke = await postForm(
        server,
        '/oauth/revoke',
        { token: otherChain[0]! },
        { authorization: basic, 'x-forwarded-for': freshAddress() },
      );
      expect(revoke.status, revoke.text).not.toBe(200);
      expect(revoke.body.code).toBe('ERR_TOKEN_NOT_YOURS');
      expect(await store.getSession(sidOf(other.access_token))).toMatchObject({ revokedAt: null });
      // Nor does another client's refresh with it end the session: refused as another client's token, as before.
      const grant = await postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: otherChain[0]! },
        { authorization: basic, 'x-forwarded-for': freshAddress() },
      );
      expect(grant.status, grant.text).toBe(400);
      expect(grant.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
      expect(await store.getSession(sidOf(other.access_token))).toMatchObject({ revokedAt: null });
      expect(await reuseEvents(store, sidOf(other.access_token))).toEqual([]);
    } finally {
      await close();
    }
  });

  it('version-1 tokens refresh and rotate into version 2; their rows are never pruned before the session ends', async () => {
    const { server, store, db, clock, close } = await setUp();
    try {
      const tokens = await signIn(server, 'old-client@example.com');
      const sid = sidOf(tokens.access_token);
      // As a release before version 2 left it: the session's token a version-1 one, its row without a marker.
      const old = v1Token(server.config.kek);
      await store.transaction(async (tx) => {
        await tx.deleteRefreshTokensForSession(sid);
        await tx.insertRefreshToken({ tokenHash: sha256(old), sessionId: sid, generation: 1 });
      });
      const tags = createRefreshTokenTags(server.config.kek);
      expect(tags.isIssued(old)).toBe(true);
      expect(tags.markerOf(old)).toBeUndefined();

      const chain = await rotate(server, clock, old, 3);
      expect(chain.slice(1).every((token) => tags.markerOf(token) !== undefined)).toBe(true);
      // One family: the successors carry on the marker the first version-2 token drew.
      expect(new Set(chain.slice(1).map((token) => tags.markerOf(token))).size).toBe(1);
      expect(await rows(db, sid)).toEqual({ all: 4, marked: 3 });

      clock.now += HOUR;
      await sweep(server);
      // The version-1 row stays; the two rotated version-2 rows go; the current one stays.
      expect(await rows(db, sid)).toEqual({ all: 2, marked: 1 });
      // The version-1 token presented again is found, and is reuse as ever (its generation known).
      const replay = await refresh(server, old);
      expect(replay.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
      expect(await reuseEvents(store, sid)).toEqual([{ generation: 1 }]);
    } finally {
      await close();
    }
  });

  it('a version-2 token of a session that ended, or whose tokens a password change replaced, is stale, not reuse', async () => {
    const { server, store, clock, close } = await setUp();
    try {
      // Ended (idle past its timeout), its rotated rows swept: still the session's end, as with its rows kept.
      const idle = await signIn(server, 'went-idle@example.com');
      const idleSid = sidOf(idle.access_token);
      const idleChain = await rotate(server, clock, idle.refresh_token, 2);
      // Replaced by a password change: a new family; the old one's rows are gone.
      const changer = await signIn(server, 'changes-password@example.com');
      const changerSid = sidOf(changer.access_token);
      const changerChain = await rotate(server, clock, changer.refresh_token, 1);
      const change = await server.request('POST', '/api/password', {
        token: changer.access_token,
        body: { current_password: PASSWORD, new_password: 'another horse battery' },
        headers: { 'x-forwarded-for': freshAddress() },
      });
      expect(change.status, change.text).toBeLessThan(300);

      clock.now += 3 * DAY;
      await sweep(server);
      const office = freshAddress();
      const ended = await refresh(server, idleChain[0]!, office);
      expect(ended.status).toBe(401);
      expect(ended.body.code).toBe('ERR_SESSION_ENDED');

      // A month later the ended session itself is swept: its tokens are stale.
      clock.now += 31 * DAY;
      await sweep(server);
      expect(await store.getSession(idleSid)).toBeUndefined();
      for (const token of [...idleChain, ...changerChain]) {
        const res = await refresh(server, token, office);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
      }
      expect(await reuseEvents(store, idleSid)).toEqual([]);
      expect(await reuseEvents(store, changerSid)).toEqual([]);
      // None of it spent the address's failure budget (more stale tokens than the budget, and then a guess passes).
      expect((await refresh(server, `guess-${'x'.repeat(40)}`, office)).status).toBe(401);
    } finally {
      await close();
    }
  });

  it('a marker the rows of two sessions share names neither: the pruned token is stale, and no session ends', async () => {
    const { server, store, db, clock, close } = await setUp();
    try {
      const a = await signIn(server, 'collides-a@example.com');
      const b = await signIn(server, 'collides-b@example.com');
      const [aSid, bSid] = [sidOf(a.access_token), sidOf(b.access_token)];
      const aChain = await rotate(server, clock, a.refresh_token, 2);
      clock.now += HOUR;
      await sweep(server);
      // The test seam: the database made to hold the (64-bit, random) collision.
      const marker = createRefreshTokenTags(server.config.kek).markerOf(aChain[0]!)!;
      await db.updateTable('refresh_tokens').set({ marker }).where('session_id', '=', bSid).execute();

      const office = freshAddress();
      const res = await refresh(server, aChain[0]!, office);
      expect(res.status).toBe(401);
      expect(res.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
      for (const sid of [aSid, bSid]) {
        expect(await store.getSession(sid)).toMatchObject({ revokedAt: null });
        expect(await reuseEvents(store, sid)).toEqual([]);
      }
      // Stale, not a guess: presented more times than the budget, the address is still not locked.
      for (let i = 0; i < BUDGET; i++) expect((await refresh(server, aChain[1]!, office)).status).toBe(401);
      expect((await refresh(server, aChain.at(-1)!, office)).status).toBe(200);
    } finally {
      await close();
    }
  });

  it('a tampered version-2 token is a guess: it spends the failure budget and ends no session', async () => {
    const { server, store, clock, close } = await setUp();
    try {
      const tokens = await signIn(server, 'tampered@example.com');
      const sid = sidOf(tokens.access_token);
      const chain = await rotate(server, clock, tokens.refresh_token, 1);
      clock.now += HOUR;
      await sweep(server);
      const raw = Buffer.from(chain[0]!, 'base64url');
      raw[3] = raw[3]! ^ 1;
      const tampered = raw.toString('base64url');
      const office = freshAddress();
      for (let i = 0; i < BUDGET; i++) {
        const res = await refresh(server, tampered, office);
        expect(res.status).toBe(401);
        expect(res.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
      }
      expect((await refresh(server, tampered, office)).status).toBe(429);
      expect(await store.getSession(sid)).toMatchObject({ revokedAt: null });
    } finally {
      await close();
    }
  });
});

describe.each(backends)('the sweep of rotated refresh tokens: $dialect', (backend) => {
  const T0 = 1_900_000_000_000;

  /** A session with a chain of `tokens` refresh tokens rotated a minute apart from `at`, marked or not. */
  async function chain(store: Store, tokens: number, marker: string | null, at: number): Promise<string> {
    const user = await store.createUser(
      { email: `sweep-${randomUUID()}@example.com`, passwordHash: 'h' },
      at,
    );
    const session = await store.createSession({ userId: user.id, absoluteExpiresAt: at + 90 * DAY }, at);
    let hash = sha256(randomUUID());
    await store.insertRefreshToken({ tokenHash: hash, sessionId: session.id, generation: 1, marker }, at);
    for (let i = 1; i < tokens; i++) {
      const next = { hash: sha256(randomUUID()), ciphertext: `c${i}`, generation: i + 1, marker };
      expect((await store.rotateRefreshToken(hash, next, at + i * MIN)).status).toBe('rotated');
      hash = next.hash;
    }
    return session.id;
  }

  it('deletes only rotated marked rows older than the keep time, oldest first, in bounded batches', async () => {
    const store = await backend.open(() => T0);
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const marked = await chain(store, 5, 'aaaaaaaaaaaaaaaa', T0 - HOUR);
      const unmarked = await chain(store, 4, null, T0 - HOUR);
      const recent = await chain(store, 3, 'bbbbbbbbbbbbbbbb', T0 - 2 * MIN);
      // Rotated more than 30 minutes ago: the marked chain's first four rows; batches of three.
      expect(await store.pruneRotatedRefreshTokens(30 * MIN, 3, T0)).toBe(3);
      expect(await store.pruneRotatedRefreshTokens(30 * MIN, 3, T0)).toBe(1);
      expect(await store.pruneRotatedRefreshTokens(30 * MIN, 3, T0)).toBe(0);
      expect(await rows(db, marked)).toEqual({ all: 1, marked: 1 });
      expect(await rows(db, unmarked)).toEqual({ all: 4, marked: 0 });
      expect(await rows(db, recent)).toEqual({ all: 3, marked: 3 });
      expect(await store.sessionsWithRefreshMarker('aaaaaaaaaaaaaaaa')).toEqual([marked]);
      expect(await store.sessionsWithRefreshMarker('cccccccccccccccc')).toEqual([]);
    } finally {
      await db.destroy();
      await store.close();
    }
  });

  it('is safe on several instances at once: concurrent sweeps delete every old rotated row once', async () => {
    const stores = [await backend.open(() => T0), await backend.open(() => T0), await backend.open(() => T0)];
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const sessions: string[] = [];
      for (let i = 0; i < 6; i++)
        sessions.push(await chain(stores[0]!, 4, randomBytes(8).toString('hex'), T0 - DAY));
      let deleted = 0;
      for (let round = 0; round < 20 && deleted < 6 * 3; round++) {
        const results = await Promise.all(
          stores.map((store) => store.pruneRotatedRefreshTokens(HOUR, 4, T0)),
        );
        deleted += results.reduce((sum, n) => sum + n, 0);
      }
      expect(deleted).toBe(6 * 3);
      for (const sid of sessions) expect(await rows(db, sid)).toEqual({ all: 1, marked: 1 });
    } finally {
      await db.destroy();
      for (const store of stores) await store.close();
    }
  });
});

const migrationDbs = await migrationBackends('migration 0018', 1_900_000_000_000);

/** The index names of `refresh_tokens`. */
async function indexes(db: Kysely<Schema>, dialect: string): Promise<string[]> {
  const query =
    dialect === 'sqlite'
      ? sql<{
          name: string;
        }>`select name from sqlite_master where type = 'index' and tbl_name = 'refresh_tokens'`
      : sql<{
          name: string;
        }>`select indexname as name from pg_indexes where tablename = 'refresh_tokens' and schemaname = current_schema()`;
  return (await query.execute(db)).rows.map((row) => row.name).sort();
}

describe.each(migrationDbs)('migration 0018: $dialect', (backend) => {
  it('adds the marker column and its two partial indexes to an existing database, keeping its tokens, and goes down', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const user = await store.createUser({ email: `m18-${randomUUID()}@example.com`, passwordHash: 'h' });
      const session = await store.createSession({ userId: user.id, absoluteExpiresAt: 2_000_000_000_000 });
      const hash = sha256(randomUUID());
      await store.insertRefreshToken({ tokenHash: hash, sessionId: session.id, generation: 1 });
      expect(await indexes(db, backend.dialect)).toEqual(
        expect.arrayContaining(['refresh_tokens_marker_idx', 'refresh_tokens_marked_rotated_idx']),
      );
      const down = await migrateTo(db, backend, '0017_session_end_index');
      expect(down.error).toBeUndefined();
      // (Later migrations go down first; 0018 last.)
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0018_refresh_token_markers');
      expect(await indexes(db, backend.dialect)).not.toContain('refresh_tokens_marker_idx');
      expect(await indexes(db, backend.dialect)).not.toContain('refresh_tokens_marked_rotated_idx');
      if (backend.dialect === 'postgres') {
        // An operator who added the column and built one index beforehand, without blocking writes.
        await sql`alter table refresh_tokens add column marker text`.execute(db);
        await sql`create index concurrently refresh_tokens_marker_idx on refresh_tokens (marker) where marker is not null`.execute(
          db,
        );
      }
      // The next open migrates up, as an upgrade does; the token is kept, without a marker.
      await (await backend.open()).close();
      expect(await indexes(db, backend.dialect)).toEqual(
        expect.arrayContaining(['refresh_tokens_marker_idx', 'refresh_tokens_marked_rotated_idx']),
      );
      expect(await store.getRefreshToken(hash)).toMatchObject({ tokenHash: hash, marker: null });
    } finally {
      await db.destroy();
      await store.close();
    }
  });
  it('the sweep and the marker lookup search the partial indexes, not the table', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      // Rows of many families, some rotated, and fresh statistics: the planner chooses as it would in use.
      const user = await store.createUser({ email: `plan-${randomUUID()}@example.com`, passwordHash: 'h' });
      for (let i = 0; i < 40; i++) {
        const session = await store.createSession({ userId: user.id, absoluteExpiresAt: 2_000_000_000_000 });
        const marker = randomBytes(8).toString('hex');
        let hash = sha256(randomUUID());
        await store.insertRefreshToken({ tokenHash: hash, sessionId: session.id, generation: 1, marker });
        for (let g = 2; g <= 4; g++) {
          const next = { hash: sha256(randomUUID()), ciphertext: 'c', generation: g, marker };
          await store.rotateRefreshToken(hash, next);
          hash = next.hash;
        }
      }
      await sql`analyze`.execute(db);
      const sweep = `select token_hash from refresh_tokens where marker is not null and rotated_at < 5 order by rotated_at limit 10`;
      const lookup = `select min(session_id), max(session_id) from refresh_tokens where marker = 'aaaaaaaaaaaaaaaa'`;
      expect(await queryPlan(backend, db, sweep)).toContain('refresh_tokens_marked_rotated_idx');
      expect(await queryPlan(backend, db, lookup)).toContain('refresh_tokens_marker_idx');
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
