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
const pgSchema = await requirePostgres('pruned-session refresh');
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await pgSchema?.drop();
});

const backends: { dialect: string; open: (now: () => number) => Promise<Store> }[] = [
  { dialect: 'sqlite', open: (now) => openStore({ url: join(dir, 'jot.db'), dataDir: dir, now }) },
];
if (pgSchema !== undefined) {
  const schema = pgSchema;
  backends.push({
    dialect: 'postgres',
    open: (now) => openStore({ url: schema.url, dataDir: dir, postgres: { schema: schema.schema }, now }),
  });
}

describe.each(backends)('a refresh token of a pruned session: $dialect', (backend) => {
  it(`${BUDGET + 2} of them from one address: each 401 ERR_REFRESH_TOKEN_INVALID, and the address is not locked`, async () => {
    let now = Date.UTC(2026, 0, 5, 6, 0, 0);
    const store = await backend.open(() => now);
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
});
