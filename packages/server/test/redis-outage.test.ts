/**
 * Redis stopped under load and started again (empty, as a restarted cache without persistence), with two real
 * server processes on one PostgreSQL database: requests keep their latency (Redis commands fail fast), no session
 * ends, rate limits fall back to per-instance counting, the revocations made during the outage are published once
 * Redis is back, and a strict verifier reading Redis never accepts a revoked token — it refuses (503) while it
 * cannot trust the mirror, or asks the introspection endpoint when given the feed secret.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';
import { createVerifier, isVerifyError, type Verifier } from '@jot/verify';

import { startServer } from './support/jot-server.js';
import {
  call,
  cleanup,
  hasRedisServer,
  login,
  percentile,
  requireBuiltServer,
  requireTestDatabase,
  serverEnv,
  spawnServer,
  startTestRedis,
  TEST_FEED_SECRET,
  waitFor,
  type Reply,
  type ServerProcess,
  type TestDatabase,
  type TestRedis,
} from './support/processes.js';

const ISSUER = 'http://jot.cluster.test';
/** The servers' keys: a Redis of this test's own, so the default namespace. */
const DEFAULT_KEYS = redisNames();
const PASSWORD = 'correct horse battery';
/** A logout revokes the token (jti) and its session (sid): the mirror refuses by either. */
const REVOKED = ['ERR_TOKEN_REVOKED', 'ERR_TOKEN_REVOKED'];
const db = await requireTestDatabase('the Redis outage tests');
const redisAvailable = hasRedisServer('the Redis outage tests');

async function outcome(verifier: Verifier, token: string): Promise<string> {
  try {
    await verifier.verify(token);
    return 'accepted';
  } catch (err) {
    if (isVerifyError(err)) return err.code;
    throw err;
  }
}

describe.skipIf(db === undefined || !redisAvailable)('Redis stopped under load and started again', () => {
  const database = db as TestDatabase;
  let redis: TestRedis;
  let a: ServerProcess;
  let b: ServerProcess;
  const verifiers: Verifier[] = [];

  beforeAll(async () => {
    requireBuiltServer();
    redis = await startTestRedis();
    const env = serverEnv({ JOT_DATABASE_URL: database.url, JOT_REDIS_URL: redis.url });
    [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    await cleanup();
    await database.drop();
  });

  function strict(fallback: boolean): Verifier {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      jwksUri: `${a.url}/.well-known/jwks.json`,
      revocation: {
        strategy: 'strict',
        redis: redis.url,
        timeout: '300ms',
        ...(fallback ? { secret: TEST_FEED_SECRET, introspectionUrl: `${b.url}/api/introspect` } : {}),
      },
    });
    verifiers.push(verifier);
    return verifier;
  }

  it('keeps latency, sessions, limits and revocations; publishes the outage’s revocations afterwards', async () => {
    const probe = new Redis(redis.url, { maxRetriesPerRequest: 0 });
    probe.on('error', () => undefined);
    await waitFor('the completeness marker', async () => (await probe.exists(DEFAULT_KEYS.complete)) === 1);
    probe.disconnect();

    const servers = [a, b];
    const sessions = await Promise.all(
      Array.from({ length: 6 }, (_, i) => login(servers[i % 2]!.url, `steady${i}@example.com`)),
    );
    const doomed = await Promise.all(
      Array.from({ length: 4 }, (_, i) => login(servers[i % 2]!.url, `doomed${i}@example.com`)),
    );
    const plain = strict(false);
    const withFallback = strict(true);
    for (const t of doomed) expect(await outcome(plain, t.access_token)).toBe('accepted');

    // Watch every logged-out token with the Redis-only strict verifier, from its logout to the end.
    const revoked: string[] = [];
    const seen = new Map<string, Set<string>>();
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        for (const token of [...revoked]) {
          const result = await outcome(plain, token);
          (seen.get(result) ?? seen.set(result, new Set()).get(result)!).add(token.slice(-8));
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();

    // Load: refresh the steady sessions, log in and register, on both instances.
    const latencies = { up: [] as number[], down: [] as number[] };
    const failures: Reply[] = [];
    let phase: 'up' | 'down' = 'up';
    let running = true;
    const load = sessions.map(async (_, i) => {
      for (let n = 0; running; n += 1) {
        const server = servers[(i + n) % 2]!;
        const res = await call(server.url, 'POST', '/api/token/refresh', {
          body: { refresh_token: sessions[i]!.refresh_token },
        });
        if (res.status === 200) sessions[i] = res.body as (typeof sessions)[number];
        else failures.push(res);
        latencies[phase].push(res.ms);
        const auth =
          n % 3 === 0
            ? await call(server.url, 'POST', '/api/register', {
                body: { email: `new${i}-${n}-${phase}@example.com`, password: PASSWORD },
              })
            : await call(server.url, 'POST', '/api/login', {
                body: { email: `steady${i}@example.com`, password: PASSWORD },
              });
        if (auth.status !== 200 && auth.status !== 201) failures.push(auth);
        latencies[phase].push(auth.ms);
      }
    });
    await waitFor('a baseline', () => latencies.up.length >= 60, 60_000);

    await redis.stop();
    phase = 'down';
    await waitFor('load during the outage', () => latencies.down.length >= 60, 60_000);
    // Revocations while Redis is down: logout on both instances.
    const outageSids: string[] = [];
    for (const [i, t] of doomed.entries()) {
      const res = await call(servers[i % 2]!.url, 'POST', '/api/logout', { token: t.access_token });
      expect(res.status).toBe(204);
      revoked.push(t.access_token);
      outageSids.push(String(decodeUnverified(t.access_token).payload.sid));
    }
    for (const t of doomed) {
      expect(await outcome(plain, t.access_token)).toBe('ERR_VERIFY_REVOCATION_UNAVAILABLE');
      expect(await outcome(withFallback, t.access_token)).toBe('ERR_TOKEN_REVOKED');
    }
    await waitFor('more load during the outage', () => latencies.down.length >= 120, 60_000);

    // Redis comes back empty. It first demands a password, so this test's subscriber is listening before the
    // servers can reconnect; then it lets everyone in.
    await redis.start({ password: 'letmein' });
    const subscriber = new Redis(redis.url, { password: 'letmein', maxRetriesPerRequest: 0 });
    subscriber.on('error', () => undefined);
    const published: string[] = [];
    subscriber.on('message', (_channel, message: string) => published.push(message));
    await subscriber.subscribe(DEFAULT_KEYS.channel);
    await subscriber.call('CONFIG', 'SET', 'requirepass', '');
    phase = 'up';
    try {
      await waitFor(
        'every outage revocation published on the channel',
        () => outageSids.every((sid) => published.some((m) => m.includes(sid))),
        30_000,
      );
      const check = new Redis(redis.url, { maxRetriesPerRequest: 0 });
      check.on('error', () => undefined);
      await waitFor(
        'the completeness marker again',
        async () => (await check.exists(DEFAULT_KEYS.complete)) === 1,
      );
      for (const sid of outageSids) expect(await check.get(DEFAULT_KEYS.sid(sid))).toBe('1');
      check.disconnect();
      // The verifier's own client reconnects on its schedule; from then on the mirror answers for itself.
      for (const t of doomed) {
        await waitFor('the strict verifier to read the restored mirror', async () =>
          REVOKED.includes(await outcome(plain, t.access_token)),
        );
      }
      const cursor = await database.query<{ value: string }>(
        "SELECT value::text AS value FROM cluster_state WHERE name = 'redis:published'",
      );
      const top = await database.query<{ max: string }>('SELECT max(id)::text AS max FROM revocations');
      expect(Number(cursor[0]?.value)).toBeGreaterThanOrEqual(Number(top[0]?.max));
    } finally {
      subscriber.disconnect();
    }
    await waitFor('load after the outage', () => latencies.up.length >= 200, 60_000);
    running = false;
    watching = false;
    await Promise.all([...load, watcher]);

    // The strict verifier never accepted a revoked token: refused with 503 while it could not trust the mirror,
    // then by session once the mirror was complete.
    expect(seen.has('accepted')).toBe(false);
    expect(seen.has('ERR_VERIFY_REVOCATION_UNAVAILABLE')).toBe(true);
    expect([...seen.keys()].some((code) => REVOKED.includes(code))).toBe(true);
    // No request failed and no session ended because of the outage.
    expect(failures.map((f) => [f.status, f.body.code])).toEqual([]);
    for (const [i, session] of sessions.entries()) {
      const res = await call(servers[i % 2]!.url, 'POST', '/api/token/refresh', {
        body: { refresh_token: session.refresh_token },
      });
      expect(res.status).toBe(200);
    }
    const summary = (values: number[]): string =>
      `p50 ${percentile(values, 50).toFixed(0)} ms, p99 ${percentile(values, 99).toFixed(0)} ms, max ${Math.max(...values).toFixed(0)} ms (${values.length})`;
    console.info(`redis-outage: Redis up: ${summary(latencies.up)}; Redis down: ${summary(latencies.down)}`);
    // No stall: the old client queued commands for 5–15 s. (A loose bound on a loaded CI machine, not a benchmark.)
    expect(Math.max(...latencies.down)).toBeLessThan(3_000);
    expect(a.child.exitCode).toBeNull();
    expect(b.child.exitCode).toBeNull();
  }, 240_000);
});

describe.skipIf(!redisAvailable)('rate limits while Redis is down', () => {
  afterAll(cleanup);

  it('fall back to per-instance counting instead of switching off', async () => {
    const redis = await startTestRedis();
    const server = await startServer({ redisUrl: redis.url, rateLimitAuth: '3/min' });
    try {
      await redis.stop();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i += 1) {
        const res = await server.request('POST', '/api/login', {
          body: { email: 'nobody@example.com', password: 'wrong password' },
        });
        statuses.push(res.status);
      }
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await server.close();
    }
  });
});
