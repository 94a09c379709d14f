/**
 * Two real server processes (the built bin) on one PostgreSQL database and one Redis: they agree on keys (also
 * when both start at once on the empty database), see each other's rotations, refresh-token reuse and logouts at
 * once, push revocations to a verifier streaming from the other instance, and keep serving each other's sessions
 * when one is killed. The servers poll only every 60 s, so anything seen sooner was pushed (LISTEN/NOTIFY).
 * docs/deploy.md ("What an outage does") quotes the figures this file prints. In CI a missing PostgreSQL or
 * redis-server fails it; elsewhere it is skipped, visibly.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';
import { createVerifier, type Verifier } from '@jot/verify';

import {
  ADMIN,
  call,
  cleanup,
  hasRedisServer,
  login,
  requireBuiltServer,
  requireTestDatabase,
  serverEnv,
  spawnServer,
  START_DEADLINE_MS,
  startTestRedis,
  TEST_FEED_SECRET,
  waitFor,
  type ServerProcess,
  type TestDatabase,
  type TestRedis,
} from './support/processes.js';

const ISSUER = 'http://jot.cluster.test';
const redisAvailable = hasRedisServer('the multi-instance tests');
// Without redis-server (outside CI) the suite is skipped: no database is created for it then.
const db = redisAvailable ? await requireTestDatabase('the multi-instance tests') : undefined;

/** Pushes must beat this by far; the bound asserted below is a fraction of it. */
const POLL = '60s';
/** The refresh grace window: a retry within it (an answer lost with a dying instance) gets the same successor. */
const GRACE_MS = 3_000;

function kidOf(token: string): string {
  return String(decodeUnverified(token).header.kid);
}

async function jwks(server: ServerProcess): Promise<unknown> {
  const res = await call(server.url, 'GET', '/.well-known/jwks.json');
  expect(res.status).toBe(200);
  return res.body;
}

describe.skipIf(db === undefined || !redisAvailable)('two instances on one PostgreSQL and one Redis', () => {
  const database = db as TestDatabase;
  let redis: TestRedis;
  let a: ServerProcess;
  let b: ServerProcess;
  const verifiers: Verifier[] = [];

  const env = (): Record<string, string> =>
    serverEnv({
      JOT_DATABASE_URL: database.url,
      JOT_REDIS_URL: redis.url,
      JOT_CLUSTER_POLL_INTERVAL: POLL,
      JOT_REFRESH_GRACE_WINDOW: `${GRACE_MS / 1000}s`,
    });

  beforeAll(async () => {
    requireBuiltServer();
    redis = await startTestRedis();
    // The suite's database is empty: A and B race to set it up (migrations, the first signing key, the admin).
    [a, b] = await Promise.all([spawnServer(env()), spawnServer(env())]);
  }, START_DEADLINE_MS + 20_000);
  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    await cleanup();
    await database.drop();
  });

  it('started at once on an empty database: one key, identical JWKS, each accepts the other’s tokens', async () => {
    const keys = await database.query<{ kid: string }>('SELECT kid FROM signing_keys');
    expect(keys).toHaveLength(1);
    expect(await jwks(a)).toEqual(await jwks(b));
    const onA = await login(a.url, 'cold@example.com');
    const onB = await login(b.url, 'cold@example.com');
    expect(kidOf(onA.access_token)).toBe(keys[0]!.kid);
    expect(kidOf(onB.access_token)).toBe(keys[0]!.kid);
    expect((await call(b.url, 'GET', '/api/whoami', { token: onA.access_token })).status).toBe(200);
    expect((await call(a.url, 'GET', '/api/whoami', { token: onB.access_token })).status).toBe(200);
  });

  it('a refresh token used on A and then again on B is reuse: the session ends on both', async () => {
    const first = await login(a.url, 'reuse@example.com');
    const rotated = await call(a.url, 'POST', '/api/token/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(rotated.status).toBe(200);
    const rotatedAt = Date.now();
    // Within the grace window B hands out the same successor A did (two tabs refreshing at once)…
    const retry = await call(b.url, 'POST', '/api/token/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    if (Date.now() - rotatedAt < GRACE_MS) expect(retry.body.refresh_token).toBe(rotated.body.refresh_token);
    // …after it, the same token is reuse.
    await waitFor(
      'the grace window to pass',
      () => Date.now() - rotatedAt > GRACE_MS + 100,
      GRACE_MS + 5_000,
    );
    const replay = await call(b.url, 'POST', '/api/token/refresh', {
      body: { refresh_token: first.refresh_token },
    });
    expect(replay).toMatchObject({ status: 401, body: { code: 'ERR_REFRESH_TOKEN_REUSED' } });
    const next = await call(a.url, 'POST', '/api/token/refresh', {
      body: { refresh_token: rotated.body.refresh_token },
    });
    expect(next.status).toBe(401);
    expect((await call(a.url, 'GET', '/api/whoami', { token: rotated.body.access_token })).status).toBe(401);
  });

  it('a logout on A is refused at B on the very next request', async () => {
    const tokens = await login(a.url, 'logout@example.com');
    expect((await call(b.url, 'GET', '/api/whoami', { token: tokens.access_token })).status).toBe(200);
    expect((await call(a.url, 'POST', '/api/logout', { token: tokens.access_token })).status).toBe(204);
    expect(await call(b.url, 'GET', '/api/whoami', { token: tokens.access_token })).toMatchObject({
      status: 401,
    });
  });

  it('a verifier streaming from B rejects a token logged out on A within the push bound', async () => {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: ISSUER,
      jwksUri: `${b.url}/.well-known/jwks.json`,
      revocation: {
        strategy: 'replicated',
        secret: TEST_FEED_SECRET,
        feedUrl: `${b.url}/api/revocations`,
        streamUrl: `${b.url}/api/revocations/stream`,
      },
    });
    verifiers.push(verifier);
    await verifier.ready();
    await waitFor('the stream to connect', () => verifier.stats().revocation.connected === true);
    const delays: number[] = [];
    const afterAnswer: number[] = [];
    for (let i = 0; i < 5; i += 1) {
      const tokens = await login(a.url, `stream${i}@example.com`);
      await verifier.verify(tokens.access_token);
      const started = performance.now();
      expect((await call(a.url, 'POST', '/api/logout', { token: tokens.access_token })).status).toBe(204);
      const answered = performance.now();
      // Far below the servers' 60 s poll: only a push (A's NOTIFY → B's stream) gets it there this soon.
      await waitFor(
        'the verifier to reject the logged-out token',
        () =>
          verifier.verify(tokens.access_token).then(
            () => false,
            () => true,
          ),
        5_000,
        5,
      );
      delays.push(performance.now() - started);
      afterAnswer.push(performance.now() - answered);
    }
    const show = (values: number[]): string => values.map((d) => d.toFixed(0)).join(', ');
    console.info(
      `cluster: logout on A → verifier on B: ${show(delays)} ms from the request, ${show(afterAnswer)} ms after its answer`,
    );
  });

  it('an emergency rotation on A is used by B within about a second', async () => {
    const admin = await call(a.url, 'POST', '/api/login', { body: ADMIN });
    expect(admin.status).toBe(200);
    const rotated = await call(a.url, 'POST', '/api/admin/keys/rotate', {
      token: admin.body.access_token,
      body: { immediate: true },
    });
    expect(rotated.status).toBe(201);
    const kid = String(rotated.body.kid);
    const started = performance.now();
    // B signs with the new key, publishes it, and accepts A's tokens signed with it — without polling.
    await waitFor(
      'B to sign with the new key',
      async () => kidOf((await login(b.url, 'rotation@example.com')).access_token) === kid,
      5_000,
      20,
    );
    console.info(
      `cluster: emergency rotation on A used by B after ${(performance.now() - started).toFixed(0)} ms`,
    );
    expect(await jwks(b)).toEqual(await jwks(a));
    const fromA = await login(a.url, 'rotation@example.com');
    expect(kidOf(fromA.access_token)).toBe(kid);
    expect((await call(b.url, 'GET', '/api/whoami', { token: fromA.access_token })).status).toBe(200);
  });

  it('an instance killed mid-load leaves its sessions working on the other', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 4 }, (_, i) => login(a.url, `survivor${i}@example.com`)),
    );
    let running = true;
    const load = sessions.map(async (session, i) => {
      while (running) {
        const res = await call(a.url, 'POST', '/api/token/refresh', {
          body: { refresh_token: sessions[i]!.refresh_token },
        });
        if (res.status === 200) sessions[i] = res.body as typeof session;
        else break; // A is gone (connection refused) or the answer was lost
      }
    });
    await waitFor('some refreshes on A', async () => {
      const rows = await database.query<{ n: string }>(
        'SELECT count(*)::text AS n FROM refresh_tokens WHERE rotated_at IS NOT NULL',
      );
      return Number(rows[0]?.n) > 8;
    });
    await a.kill('SIGKILL');
    running = false;
    await Promise.all(load);
    for (const session of sessions) {
      expect((await call(b.url, 'GET', '/api/whoami', { token: session.access_token })).status).toBe(200);
      // A refresh in flight when A died may have rotated without its answer arriving: the client retries on B with
      // the same token and, within the grace window, gets the successor A made.
      const res = await call(b.url, 'POST', '/api/token/refresh', {
        body: { refresh_token: session.refresh_token },
      });
      expect(res.status).toBe(200);
      expect((await call(b.url, 'GET', '/api/whoami', { token: res.body.access_token })).status).toBe(200);
    }
  });
});
