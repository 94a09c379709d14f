/**
 * Single-token mode (`JOT_TOKEN_MODE=single`, `POST /api/token/renew`), issue 9: renewal is limited per session;
 * two renewals of one token within the grace window (two tabs) get the same successor, on one instance or racing
 * over several on PostgreSQL; a renewal of an already renewed token after the window is reuse and ends the session
 * with a renewal-specific code; a flood of renewals adds at most `JOT_RATE_LIMIT_RENEW` feed entries per account and
 * window (none for renewals on schedule); expired one-time and renewal rows are pruned.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { openStore } from '../src/index.js';
import { hashSecret } from '../src/services/secrets.js';
import { pruneExpired } from '../src/services/pruning.js';
import { requirePostgres } from './support/postgres.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import { startServer, type TestServer } from './support/jot-server.js';

const FEED = 'r'.repeat(40);
const PASSWORD = 'correct horse battery';
const SINGLE = {
  tokenMode: 'single',
  revocationSecret: FEED,
  rateLimitAuth: '100000/min',
  loginLockout: '100000/1s',
} as const;

/** The renewal limit out of the way, for tests about ordering rather than throttling. */
const RACE = { rateLimitRenew: '100000/min' };

const pg = await requirePostgres('token-renewal');

const servers: TestServer[] = [];
let sharedDataDir: string | undefined;
/**
 * The data directory of every instance on the PostgreSQL schema: they share its key-encryption key, as the
 * instances of a deployment share JOT_KEK (the signing keys in the schema are sealed under it).
 */
function pgDataDir(): string {
  if (sharedDataDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'jot-renew-pg-'));
    sharedDataDir = dir;
    cleanups.push(() => Promise.resolve(rmSync(dir, { recursive: true, force: true })));
  }
  return sharedDataDir;
}
/** Run after the servers close: the PostgreSQL instances (then their schema is dropped). */
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const server of servers) await server.close();
  for (const cleanup of cleanups) await cleanup();
  await pg?.drop();
});

async function start(
  settings: Record<string, string> = {},
  options: Parameters<typeof startServer>[1] = {},
): Promise<TestServer> {
  const server = await startServer({ ...SINGLE, ...settings }, options);
  servers.push(server);
  return server;
}

/** Registers `email` (once) and signs in: a new session's access token. */
async function signIn(server: TestServer, email: string): Promise<string> {
  await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  const login = await server.request('POST', '/api/login', { body: { email, password: PASSWORD } });
  expect(login.status).toBe(200);
  expect(login.body.refresh_token).toBeUndefined();
  return login.body.access_token as string;
}

const renew = (server: TestServer, token: string) => server.request('POST', '/api/token/renew', { token });

async function feedCursor(server: TestServer): Promise<string> {
  return (await server.request('GET', '/api/revocations', { token: FEED })).body.cursor as string;
}

async function jtiEntriesSince(server: TestServer, cursor: string): Promise<string[]> {
  const res = await server.request('GET', `/api/revocations?since=${cursor}`, { token: FEED });
  expect(res.status).toBe(200);
  return (res.body.entries as Array<{ kind: string; subject: string }>)
    .filter((e) => e.kind === 'jti')
    .map((e) => e.subject);
}

describe('renewal rate limit', () => {
  it('answers the renewal over JOT_RATE_LIMIT_RENEW of one session with 429 and Retry-After, and recovers after the window', async () => {
    const server = await start({ rateLimitRenew: '3/2s' });
    let token = await signIn(server, 'limit@example.com');
    const other = await signIn(server, 'limit-other@example.com');
    for (let i = 0; i < 3; i++) {
      const res = await renew(server, token);
      expect(res.status).toBe(200);
      token = res.body.access_token;
    }
    const limited = await renew(server, token);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('ERR_RATE_LIMITED');
    const retryAfter = Number(limited.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(2);
    // Another user's session has its own budget.
    expect((await renew(server, other)).status).toBe(200);
    // The limited token is still good for everything else, and renews once the window has passed.
    expect((await server.request('GET', '/api/whoami', { token })).status).toBe(200);
    const deadline = Date.now() + 15_000;
    let after = await renew(server, token);
    while (after.status === 429 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      after = await renew(server, token);
    }
    expect(after.status).toBe(200);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 10, type: 'rate_limited' });
    expect(events.some((e) => (e.detail as { limit?: string }).limit === 'renew')).toBe(true);
  });
});

describe('renewing one token twice', () => {
  it('two tabs renewing at once both get the same successor, and the session lives on', async () => {
    const server = await start(RACE);
    const token = await signIn(server, 'tabs@example.com');
    const results = await Promise.all(Array.from({ length: 6 }, () => renew(server, token)));
    for (const res of results) expect(res.status).toBe(200);
    const successors = new Set(results.map((r) => r.body.access_token as string));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect(successor).not.toBe(token);
    expect(decodeUnverified(successor!).payload.sid).toBe(decodeUnverified(token).payload.sid);
    expect((await server.request('GET', '/api/whoami', { token: successor })).status).toBe(200);
    // A repeat a moment later (still within the grace window) is answered the same way.
    const again = await renew(server, token);
    expect(again.status).toBe(200);
    expect(again.body.access_token).toBe(successor);
    // The successor renews on as usual.
    const next = await renew(server, successor!);
    expect(next.status).toBe(200);
    expect((await server.request('GET', '/api/whoami', { token: next.body.access_token })).status).toBe(200);
  });

  it('a renewal of an already renewed token after the grace window ends the session, with a code that speaks of renewal', async () => {
    let now = Date.now();
    const server = await start({ refreshGraceWindow: '2s' }, { clock: () => now });
    const token = await signIn(server, 'reuse@example.com');
    const first = await renew(server, token);
    expect(first.status).toBe(200);
    now += 3000;
    const reuse = await renew(server, token);
    expect(reuse.status).toBe(401);
    expect(reuse.body.code).toBe('ERR_TOKEN_ALREADY_RENEWED');
    expect(reuse.body.error_description).toMatch(/already renewed/);
    expect(reuse.body.error_description).not.toMatch(/refresh/i);
    // The session is over for every holder: the successor no longer works or renews.
    const who = await server.request('GET', '/api/whoami', { token: first.body.access_token });
    expect(who.status).toBe(401);
    expect((await renew(server, first.body.access_token)).status).toBe(401);
    const user = await server.app.jot.store.getUserByEmail('reuse@example.com');
    const events = await server.app.jot.store.listSecurityEvents({
      limit: 10,
      type: 'renewal_reuse',
      userId: user!.id,
    });
    expect(events).toHaveLength(1);
    expect(events[0]!.sessionId).toBe(decodeUnverified(token).payload.sid);
  });

  it('within the window, a token whose successor was renewed in turn is reuse too (a copy two generations back)', async () => {
    const server = await start();
    const token = await signIn(server, 'chain@example.com');
    const first = await renew(server, token);
    const second = await renew(server, first.body.access_token);
    expect(second.status).toBe(200);
    const old = await renew(server, token);
    expect(old.status).toBe(401);
    expect(old.body.code).toBe('ERR_TOKEN_ALREADY_RENEWED');
    expect((await server.request('GET', '/api/whoami', { token: second.body.access_token })).status).toBe(
      401,
    );
  });

  it('a repeat of a renewal after logout gets no successor', async () => {
    const server = await start();
    const token = await signIn(server, 'logout-renew@example.com');
    const first = await renew(server, token);
    expect((await server.request('POST', '/api/logout', { token: first.body.access_token })).status).toBe(
      204,
    );
    const again = await renew(server, token);
    expect(again.status).toBe(401);
    expect(again.body.access_token).toBeUndefined();
  });
});

describe('renewals and the revocation feed', () => {
  it('a renewal flood adds at most JOT_RATE_LIMIT_RENEW feed entries per account and window, over all its sessions', async () => {
    const server = await start({ rateLimitRenew: '5/min' });
    const email = 'flood@example.com';
    const sessions = [await signIn(server, email), await signIn(server, email), await signIn(server, email)];
    const cursor = await feedCursor(server);
    let ok = 0;
    let limited = 0;
    await Promise.all(
      sessions.map(async (first) => {
        let token = first;
        for (let i = 0; i < 8; i++) {
          const res = await renew(server, token);
          if (res.status === 200) {
            ok++;
            token = res.body.access_token;
          } else {
            expect(res.status).toBe(429);
            expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
            limited++;
          }
        }
      }),
    );
    expect(ok).toBe(5);
    expect(limited).toBe(3 * 8 - 5);
    const entries = await jtiEntriesSince(server, cursor);
    expect(entries.length).toBeLessThanOrEqual(5);
    expect(entries.length).toBe(ok);
  });

  it('renewals on schedule (in the second half of the token’s life) add no feed entry and spend no feed budget; the old token lives out its time', async () => {
    let now = Date.now();
    const server = await start({ accessTokenTtl: '60s', rateLimitRenew: '2/min' }, { clock: () => now });
    const email = 'schedule@example.com';
    // Three sessions renewing twice each: six renewals, three times the per-account budget of revoking renewals.
    let tokens = [await signIn(server, email), await signIn(server, email), await signIn(server, email)];
    const cursor = await feedCursor(server);
    for (let step = 0; step < 2; step++) {
      now += 31_000;
      const next: string[] = [];
      for (const token of tokens) {
        const res = await renew(server, token);
        expect(res.status).toBe(200);
        expect((await server.request('GET', '/api/whoami', { token })).status).toBe(200);
        next.push(res.body.access_token as string);
      }
      tokens = next;
    }
    expect(await jtiEntriesSince(server, cursor)).toEqual([]);
  });

  it('an early renewal revokes the renewed token (one entry), and a repeat within the window adds none', async () => {
    const server = await start();
    const token = await signIn(server, 'early@example.com');
    const cursor = await feedCursor(server);
    const [a, b] = await Promise.all([renew(server, token), renew(server, token)]);
    expect(a.body.access_token).toBe(b.body.access_token);
    const who = await server.request('GET', '/api/whoami', { token });
    expect(who.status).toBe(401);
    expect(who.body.code).toBe('ERR_TOKEN_REVOKED');
    expect(await jtiEntriesSince(server, cursor)).toEqual([decodeUnverified(token).payload.jti]);
  });
});

describe('pruning', () => {
  it('deletes expired one-time tokens and renewal rows, and keeps live ones', async () => {
    let now = Date.now();
    const server = await start({ accessTokenTtl: '60s' }, { clock: () => now });
    const { store, revocations, loginThrottle } = server.app.jot;
    const token = await signIn(server, 'prune@example.com');
    const user = await store.getUserByEmail('prune@example.com');
    const renewed = await renew(server, token);
    expect(renewed.status).toBe(200);
    await store.insertOneTimeToken({
      tokenHash: hashSecret('expired link'),
      purpose: 'password_reset',
      userId: user!.id,
      expiresAt: now + 30_000,
    });
    await store.insertOneTimeToken({
      tokenHash: hashSecret('live link'),
      purpose: 'password_reset',
      userId: user!.id,
      expiresAt: now + 3_600_000,
    });
    const oldClaim = hashSecret(`renew:${decodeUnverified(token).payload.jti as string}`);
    expect(await store.getTokenRenewal(oldClaim)).toBeDefined();

    // Past the first token's expiry (60 s + 5 s tolerance) and the expired link, before the live one.
    now += 120_000;
    // The successor, renewed now, is a live renewal row.
    const fresh = await signIn(server, 'prune@example.com');
    expect((await renew(server, fresh)).status).toBe(200);
    const liveClaim = hashSecret(`renew:${decodeUnverified(fresh).payload.jti as string}`);

    const warnings: string[] = [];
    await pruneExpired({
      store,
      revocations,
      loginThrottle,
      sessionRetentionMs: server.app.jot.config.sessionRetentionMs,
      rotatedTokenKeepMs: 20 * 60_000,
      warn: (_err, what) => warnings.push(what),
    });
    expect(warnings).toEqual([]);
    expect(await store.getTokenRenewal(oldClaim)).toBeUndefined();
    expect(await store.getTokenRenewal(liveClaim)).toBeDefined();
    expect(await store.consumeOneTimeToken(hashSecret('live link'), 'password_reset')).toBeDefined();
    // Gone, not merely expired: a second insert under the same hash succeeds.
    await expect(
      store.insertOneTimeToken({
        tokenHash: hashSecret('expired link'),
        purpose: 'password_reset',
        userId: user!.id,
        expiresAt: now + 1000,
      }),
    ).resolves.toMatchObject({ tokenHash: hashSecret('expired link') });
  });
});

const backends: Array<{ name: string; start(): Promise<TestServer[]> }> = [
  { name: 'SQLite (one instance)', start: async () => [await start(RACE)] },
];
if (pg !== undefined) {
  backends.push({
    name: 'PostgreSQL (three instances)',
    async start() {
      const instances: TestServer[] = [];
      const dataDir = pgDataDir();
      for (let i = 0; i < 3; i++) {
        const store = await openStore({ url: pg.url, dataDir, postgres: { schema: pg.schema } });
        const server = await startServer({ ...SINGLE, ...RACE }, { dataDir, store });
        instances.push(server);
        cleanups.unshift(async () => {
          await server.close({ keepData: true });
          await store.close();
        });
      }
      return instances;
    },
  });
}

for (const backend of backends) {
  describe(`racing renewals on ${backend.name}`, () => {
    it('every renewal of one token, on any instance, gets the same successor; no session ends', async () => {
      const instances = await backend.start();
      const [first] = instances;
      for (let round = 0; round < 5; round++) {
        const token = await signIn(first!, `race-${round}@example.com`);
        const results = await Promise.all(
          Array.from({ length: 9 }, (_, i) => renew(instances[i % instances.length]!, token)),
        );
        expect(results.map((r) => r.status)).toEqual(results.map(() => 200));
        expect(new Set(results.map((r) => r.body.access_token)).size).toBe(1);
        const successor = results[0]!.body.access_token as string;
        for (const server of instances) {
          expect((await server.request('GET', '/api/whoami', { token: successor })).status).toBe(200);
        }
      }
    });
  });
}

const redis = pg !== undefined && (await requireRedis('token-renewal across instances'));

describe.runIf(redis)('renewal flood across three instances sharing PostgreSQL and Redis', () => {
  it('the per-account bound on feed entries holds over all instances together', async () => {
    const dataDir = pgDataDir();
    const instances: TestServer[] = [];
    for (let i = 0; i < 3; i++) {
      const store = await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } });
      const server = await startServer(
        { ...SINGLE, rateLimitRenew: '4/min', redisUrl: TEST_REDIS_URL },
        { dataDir, store },
      );
      instances.push(server);
      cleanups.unshift(async () => {
        await server.close({ keepData: true });
        await store.close();
      });
    }
    const email = `flood-${Date.now()}@example.com`;
    const sessions = [];
    for (const server of instances) sessions.push(await signIn(server, email));
    const cursor = await feedCursor(instances[0]!);
    let ok = 0;
    await Promise.all(
      sessions.map(async (first, i) => {
        let token = first;
        for (let n = 0; n < 6; n++) {
          // Each session's renewals go round the instances.
          const res = await renew(instances[(i + n) % instances.length]!, token);
          if (res.status === 200) {
            ok++;
            token = res.body.access_token;
          } else expect(res.status).toBe(429);
        }
      }),
    );
    expect(ok).toBe(4);
    expect(await jtiEntriesSince(instances[0]!, cursor)).toHaveLength(4);
  });
});
