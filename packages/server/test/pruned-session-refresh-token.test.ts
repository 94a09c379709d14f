/**
 * A refresh token of a session the sweep deleted (`JOT_SESSION_RETENTION` after the session ended) is answered like
 * any stale token the server issued: 401 `ERR_REFRESH_TOKEN_INVALID`, and it costs the address nothing — the sweep
 * must neither bring the session back nor turn its tokens into "guesses" that lock out an office whose sessions ended
 * long ago. Guesses from the same address still spend its budget. Through the server's own sweep, its default
 * retention and the real refresh route, on SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomInt } from 'node:crypto';

import { afterAll, describe, expect, it } from 'vitest';

import { pruneExpired } from '../src/services/pruning.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { hookStore } from './support/hooked-store.js';
import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { requirePostgres } from './support/postgres.js';

const PASSWORD = 'correct horse battery';
const BUDGET = 10;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const sidOf = (accessToken: string): string =>
  (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString('utf8')) as { sid: string }).sid;

const dir = mkdtempSync(join(tmpdir(), 'jot-pruned-'));
// A database per test: each test's server seals its signing keys under a key-encryption key of its own.
const pgSchemas = [
  await requirePostgres('pruned-session refresh'),
  await requirePostgres('pruned-session sweep'),
];
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  for (const schema of pgSchemas) await schema?.drop();
});

type Database = 0 | 1;
const backends: { dialect: string; open: (now: () => number, db: Database) => Promise<Store> }[] = [
  { dialect: 'sqlite', open: (now, db) => openStore({ url: join(dir, `jot-${db}.db`), dataDir: dir, now }) },
];
if (pgSchemas[0] !== undefined && pgSchemas[1] !== undefined) {
  const schemas = [pgSchemas[0], pgSchemas[1]] as const;
  backends.push({
    dialect: 'postgres',
    open: (now, db) =>
      openStore({ url: schemas[db].url, dataDir: dir, postgres: { schema: schemas[db].schema }, now }),
  });
}

describe.each(backends)('a refresh token of a pruned session: $dialect', (backend) => {
  it(`${BUDGET + 2} of them from one address: each 401 ERR_REFRESH_TOKEN_INVALID, and the address is not locked`, async () => {
    let now = Date.UTC(2026, 0, 5, 6, 0, 0);
    const store = await backend.open(() => now, 0);
    let server: TestServer | undefined;
    try {
      server = await startServer(
        { rateLimitAuth: `${BUDGET}/60s`, refreshIdleTimeout: '1h', trustProxy: true },
        { clock: () => now, store },
      );
      const jot = server;
      const refresh = (address: string, token: string): Promise<TestResponse> =>
        jot.request('POST', '/api/token/refresh', {
          body: { refresh_token: token },
          headers: { 'x-forwarded-for': address },
        });
      const signIn = async (): Promise<{ access_token: string; refresh_token: string }> => {
        const login = await jot.request('POST', '/api/login', {
          body: { email: 'long-gone@example.com', password: PASSWORD },
          headers: { 'x-forwarded-for': freshAddress() },
        });
        expect(login.status).toBe(200);
        return login.body as { access_token: string; refresh_token: string };
      };
      const reg = await jot.request('POST', '/api/register', {
        body: { email: 'long-gone@example.com', password: PASSWORD },
        headers: { 'x-forwarded-for': freshAddress() },
      });
      expect(reg.status).toBe(201);

      // Sessions that go idle, one of them refreshed a few times first (rotated rows).
      const old: { access_token: string; refresh_token: string }[] = [];
      for (let i = 0; i < BUDGET + 2; i++) old.push(await signIn());
      for (let i = 0; i < 3; i++) {
        now += 60_000;
        const res = await refresh(freshAddress(), old[0]!.refresh_token);
        expect(res.status).toBe(200);
        old[0] = { ...old[0]!, refresh_token: (res.body as { refresh_token: string }).refresh_token };
      }
      // A month and more later: they ended (idle) more than the default retention (30 days) ago.
      now += HOUR + 31 * DAY;
      const good = await signIn();
      const warnings: string[] = [];
      await pruneExpired({
        store,
        revocations: jot.app.jot.revocations,
        loginThrottle: jot.app.jot.loginThrottle,
        sessionRetentionMs: jot.app.jot.config.sessionRetentionMs,
        rotatedTokenKeepMs: 20 * 60_000,
        warn: (_err, what) => warnings.push(what),
      });
      expect(warnings).toEqual([]);
      for (const s of old) expect(await store.getSession(sidOf(s.access_token))).toBeUndefined();
      expect(await store.getSession(sidOf(good.access_token))).toMatchObject({ revokedAt: null });

      const office = freshAddress();
      for (const s of old) {
        const res = await refresh(office, s.refresh_token);
        expect(res.status).toBe(401);
        expect((res.body as { code: string }).code).toBe('ERR_REFRESH_TOKEN_INVALID');
      }
      // Not spent on them: the office's next refresh works.
      expect((await refresh(office, good.refresh_token)).status).toBe(200);
      // Guesses still spend it.
      for (let i = 0; i < BUDGET; i++)
        expect((await refresh(office, `guess-${i}-${'x'.repeat(40)}`)).status).toBe(401);
      const locked = await refresh(office, `guess-last-${'x'.repeat(40)}`);
      expect(locked.status).toBe(429);
    } finally {
      await server?.close();
      await store.close();
    }
  });

  // Regression (the Node 22 full run, PostgreSQL): one sweep ran the ended-session and rotated-token prunes at once;
  // the rotated one's uncommitted DELETE made the other skip those rows (SKIP LOCKED), find the session still holding
  // tokens and keep it until the next sweep. Which one's statements ran first was timing; whether they overlap is not.
  it('one sweep prunes ended sessions, then rotated tokens, never both at once; the refreshed session goes', async () => {
    let now = Date.UTC(2026, 0, 5, 6, 0, 0);
    const store = await backend.open(() => now, 1);
    let server: TestServer | undefined;
    try {
      server = await startServer({ refreshIdleTimeout: '1h', trustProxy: true }, { clock: () => now, store });
      const jot = server;
      const account = { email: 'rotated-then-gone@example.com', password: PASSWORD };
      const headers = (): Record<string, string> => ({ 'x-forwarded-for': freshAddress() });
      expect((await jot.request('POST', '/api/register', { body: account, headers: headers() })).status).toBe(
        201,
      );
      const login = await jot.request('POST', '/api/login', { body: account, headers: headers() });
      expect(login.status).toBe(200);
      let tokens = login.body as { access_token: string; refresh_token: string };
      for (let i = 0; i < 3; i++) {
        now += 60_000;
        const res = await jot.request('POST', '/api/token/refresh', {
          body: { refresh_token: tokens.refresh_token },
          headers: headers(),
        });
        expect(res.status).toBe(200);
        tokens = res.body as { access_token: string; refresh_token: string };
      }
      now += HOUR + 31 * DAY;

      const hooked = hookStore(store);
      const running = new Set<string>();
      const order: string[] = [];
      const watched =
        (name: string) =>
        <T>(call: () => Promise<T>): Promise<T> => {
          order.push(running.size === 0 ? name : `${name} while ${[...running].join(', ')}`);
          running.add(name);
          return call().finally(() => running.delete(name));
        };
      const ended = hooked.once('pruneEndedSessions', watched('ended sessions'));
      const rotated = hooked.once('pruneRotatedRefreshTokens', watched('rotated tokens'));
      const warnings: string[] = [];
      await pruneExpired({
        store: hooked.store,
        revocations: jot.app.jot.revocations,
        loginThrottle: jot.app.jot.loginThrottle,
        sessionRetentionMs: jot.app.jot.config.sessionRetentionMs,
        rotatedTokenKeepMs: 20 * 60_000,
        warn: (_err, what) => warnings.push(what),
      });
      await Promise.all([ended, rotated]);
      expect(warnings).toEqual([]);
      expect(order).toEqual(['ended sessions', 'rotated tokens']);
      expect(await store.getSession(sidOf(tokens.access_token))).toBeUndefined();
    } finally {
      await server?.close();
      await store.close();
    }
  });
});
