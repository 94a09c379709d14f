/**
 * `JOT_REDIS_NAMESPACE`: deployments sharing one Redis keep their revocation mirrors, completeness markers, channels
 * and rate-limit budgets apart when each has its own namespace; two deployments (two KEKs) writing one namespace
 * are detected, and neither mirror is vouched for until only one writes it again, so strict verifiers refuse
 * instead of trusting a list that mixes two deployments. Instances of one deployment share theirs without conflict.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames, type RedisNames } from '@jot/contract';
import { decodeUnverified } from '@jot/jose';
import { createVerifier, type Verifier } from '@jot/verify';

import { publisherPass } from '../src/services/redis-mirror-pass.js';
import { deploymentId } from '../src/services/redis-mirror.js';
import { openStore } from '../src/store/open.js';
import { clusterBackendsAvailable, startCluster } from './support/cluster.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import { silentLogger } from './support/silent-logger.js';
import { verifyOutcome } from './support/verify-outcome.js';

const available = await requireRedis('the Redis namespace tests');

/** Logged lines, parsed. */
interface Line {
  level: number;
  msg: string;
  code?: string;
  namespace?: string;
}

/** A server on the test Redis with `namespace`, logging errors into `lines`. */
function deployment(namespace: string, lines: Line[] = []): Promise<TestServer> {
  return startServer(
    { redisUrl: TEST_REDIS_URL, redisNamespace: namespace, rateLimitAuth: '2/min' },
    {
      logger: {
        level: 'error',
        stream: { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
      },
    },
  );
}

/**
 * Waits until the deployment `id` ran `count` more publisher passes in `names` (each records its time in the
 * writers set), within a deadline.
 */
async function passes(redis: Redis, names: RedisNames, id: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    const before = Number(await redis.zscore(names.writers, id));
    await expect
      .poll(async () => Number(await redis.zscore(names.writers, id)), { timeout: 15_000 })
      .toBeGreaterThan(before);
  }
}

describe.runIf(available)('Redis namespaces', () => {
  let redis: Redis;
  const servers: TestServer[] = [];
  const verifiers: Verifier[] = [];
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    for (const server of servers) await server.close();
    redis.disconnect();
  });

  const strictVerifier = (server: TestServer, namespace: string): Verifier => {
    const verifier = createVerifier({
      issuer: server.config.issuer,
      audience: server.config.issuer,
      jwksUri: `${server.url}/.well-known/jwks.json`,
      revocation: { strategy: 'strict', redis: TEST_REDIS_URL, namespace, timeout: '2s' },
      // Its refusals are what the test checks.
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    verifiers.push(verifier);
    return verifier;
  };

  it('two deployments with their own namespaces keep their markers, revocations, channels and budgets apart', async () => {
    const run = randomUUID().slice(0, 8);
    const [a, b] = [redisNames(`ns-a-${run}`), redisNames(`ns-b-${run}`)];
    const serverA = await deployment(a.namespace);
    servers.push(serverA);
    const serverB = await deployment(b.namespace);
    servers.push(serverB);
    expect(await redis.exists(a.complete, b.complete)).toBe(2);
    expect(JSON.parse((await redis.get(a.complete))!)).toMatchObject({
      deployment: deploymentId(serverA.config.kek, serverA.config.issuer),
    });

    const heard: { channel: string; message: string }[] = [];
    const sub = new Redis(TEST_REDIS_URL);
    try {
      await sub.subscribe(a.channel, b.channel);
      sub.on('message', (channel: string, message: string) => heard.push({ channel, message }));
      const user = await signUp(serverA, 'apart@example.com');
      const { jti } = decodeUnverified(user.access_token).payload as { jti: string };
      expect((await serverA.request('POST', '/api/logout', { token: user.access_token })).status).toBe(204);
      // Written through before the answer, within its bound (250 ms); a loaded machine may need the next pass.
      await expect.poll(() => redis.get(a.jti(jti)), { timeout: 15_000 }).toBe('1');
      expect(await redis.get(b.jti(jti))).toBeNull();
      // Published on A's channel only (one pass publishes each entry on its one channel).
      await expect.poll(() => heard.some((h) => h.message.includes(jti))).toBe(true);
      expect(heard.filter((h) => h.message.includes(jti)).map((h) => h.channel)).toEqual([a.channel]);
    } finally {
      sub.disconnect();
    }

    // A's login budget (2/min per address) is spent; B's is its own.
    const attempt = (server: TestServer) =>
      server.request('POST', '/api/login', {
        body: { email: 'nobody@example.com', password: 'wrong password' },
      });
    const statusesA: number[] = [];
    while (statusesA.length < 4 && statusesA.at(-1) !== 429) statusesA.push((await attempt(serverA)).status);
    expect(statusesA.at(-1)).toBe(429);
    expect((await attempt(serverB)).status).toBe(401);
    expect(await redis.keys(`${a.rateLimit}*`)).not.toEqual([]);
  });

  it('two deployments writing one namespace: no marker, an error naming the fix, strict verifiers refuse', async () => {
    const names = redisNames(`ns-shared-${randomUUID().slice(0, 8)}`);
    const linesA: Line[] = [];
    const linesB: Line[] = [];
    const serverA = await deployment(names.namespace, linesA);
    servers.push(serverA);
    const user = await signUp(serverA, 'shared@example.com');
    const verifier = strictVerifier(serverA, names.namespace);
    expect(await verifyOutcome(verifier, user.access_token)).toBe('accepted');

    const serverB = await deployment(names.namespace, linesB);
    servers.push(serverB);
    const conflict = (lines: Line[]) =>
      lines.some((l) => l.code === 'ERR_REDIS_NAMESPACE_SHARED' && l.namespace === names.namespace);
    // B saw A's writes at its start; A sees B's within a pass (about a second).
    expect(conflict(linesB)).toBe(true);
    await expect.poll(() => conflict(linesA), { timeout: 15_000 }).toBe(true);
    expect(linesA.find((l) => l.code === 'ERR_REDIS_NAMESPACE_SHARED')?.msg).toMatch(/JOT_REDIS_NAMESPACE/);
    expect(await redis.exists(names.complete)).toBe(0);
    expect(await verifyOutcome(verifier, user.access_token)).toBe('ERR_VERIFY_REVOCATION_REFUSED redis');
    expect(await redis.zrange(names.writers, '0', '-1')).toEqual(
      expect.arrayContaining([
        deploymentId(serverA.config.kek, serverA.config.issuer),
        deploymentId(serverB.config.kek, serverB.config.issuer),
      ]),
    );
    // Logged once per instance, not every pass.
    await passes(redis, names, deploymentId(serverA.config.kek, serverA.config.issuer), 2);
    expect(linesA.filter((l) => l.code === 'ERR_REDIS_NAMESPACE_SHARED')).toHaveLength(1);
    expect(await redis.exists(names.complete)).toBe(0);

    // B moves to a namespace of its own; once its writes are older than the window (dropped here instead of
    // waiting 30 s), A copies its list again and vouches for it.
    await serverB.close();
    servers.splice(servers.indexOf(serverB), 1);
    // (Dropped again on each try: a pass of B's in flight at its close may have recorded it once more.)
    await expect
      .poll(
        async () => {
          await redis.zrem(names.writers, deploymentId(serverB.config.kek, serverB.config.issuer));
          return redis.exists(names.complete);
        },
        { timeout: 15_000 },
      )
      .toBe(1);
    expect(await verifyOutcome(verifier, user.access_token)).toBe('accepted');
    expect((await serverA.request('POST', '/api/logout', { token: user.access_token })).status).toBe(204);
    await expect
      .poll(() => verifyOutcome(verifier, user.access_token), { timeout: 15_000 })
      .toBe('ERR_TOKEN_REVOKED jti');
  });

  it('a marker an earlier version wrote (no writers recorded) is no conflict', async () => {
    const names = redisNames(`ns-upgrade-${randomUUID().slice(0, 8)}`);
    await redis.set(names.complete, JSON.stringify({ cursor: 0, at: Date.now() }), 'PX', 10_000);
    const lines: Line[] = [];
    const server = await deployment(names.namespace, lines);
    servers.push(server);
    await expect
      .poll(async () => JSON.parse((await redis.get(names.complete)) ?? '{}') as { deployment?: string })
      .toMatchObject({ deployment: deploymentId(server.config.kek, server.config.issuer) });
    expect(lines.filter((l) => l.code === 'ERR_REDIS_NAMESPACE_SHARED')).toEqual([]);
  });
});

describe.runIf(available)('the mirror of a process that does not vouch (the CLI)', () => {
  it('writes and publishes entries, but never records a writer, copies in full or touches the marker', async () => {
    const names = redisNames(`ns-cli-${randomUUID().slice(0, 8)}`);
    const store = await openStore({ url: ':memory:', dataDir: mkdtempSync(join(tmpdir(), 'jot-ns-cli-')) });
    const redis = new Redis(TEST_REDIS_URL);
    await redis.ping(); // connected: a pass skips a Redis that is not
    const sub = new Redis(TEST_REDIS_URL);
    const published: string[] = [];
    const silent = silentLogger;
    const state = () => ({ closed: false, copyNeeded: true });
    try {
      await sub.subscribe(names.channel);
      sub.on('message', (_channel, message: string) => published.push(message));
      // (A real id: a marker naming something else cannot be read, and the server would copy at every pass.)
      const id = deploymentId(randomBytes(32), 'https://auth.example.com');
      const server = { redis, store, logger: silent, names, deployment: id, state: state() };
      // A CLI run with another KEK (reading commands and revocations do not need the deployment's).
      const cli = { redis, store, logger: silent, names, deployment: undefined, state: state() };
      await store.addRevocation({ kind: 'sid', subject: 'before', expiresAt: Date.now() + 60_000 });
      expect(await publisherPass(server)).toBe(true);
      const marker = await redis.get(names.complete);
      expect(JSON.parse(marker!)).toMatchObject({ deployment: id });

      await store.addRevocation({ kind: 'sid', subject: 'by-cli', expiresAt: Date.now() + 60_000 });
      expect(await publisherPass(cli)).toBe(true);
      expect(await redis.get(names.sid('by-cli'))).toBe('1');
      await expect.poll(() => published.some((m) => m.includes('by-cli'))).toBe(true);
      expect(await redis.zrange(names.writers, '0', '-1')).toEqual([id]);
      expect(await redis.get(names.complete)).toBe(marker);

      // Without a marker (Redis lost it) the CLI does not make one: only a server's full copy does.
      await redis.del(names.complete, names.sid('before'));
      expect(await publisherPass(cli)).toBe(true);
      expect(await redis.exists(names.complete, names.sid('before'))).toBe(0);
      expect(await publisherPass(server)).toBe(true);
      expect(await redis.exists(names.complete, names.sid('before'))).toBe(2);
    } finally {
      sub.disconnect();
      redis.disconnect();
      await store.close();
    }
  });
});

describe('the deployment id', () => {
  it('is the same for the same KEK and issuer, and another for another KEK or another issuer', () => {
    const kek = randomBytes(32);
    const id = deploymentId(kek, 'https://auth.example.com');
    expect(deploymentId(Buffer.from(kek), 'https://auth.example.com')).toBe(id);
    expect(deploymentId(randomBytes(32), 'https://auth.example.com')).not.toBe(id);
    // A copy of the database and KEK serving as staging is another deployment.
    expect(deploymentId(kek, 'https://auth.staging.example.com')).not.toBe(id);
    expect(id).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(id).not.toContain(kek.toString('base64url').slice(0, 8));
  });
});

const clusterAvailable = available && (await clusterBackendsAvailable('the shared-namespace cluster test'));

describe.runIf(clusterAvailable)('Redis namespaces across instances', () => {
  it('the instances of one deployment (one KEK) share their namespace: one writer, a marker', async () => {
    const cluster = await startCluster();
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const [a, b] = cluster.instances;
      expect(a!.config.redisNamespace).toBe(b!.config.redisNamespace);
      const names = redisNames(a!.config.redisNamespace);
      expect(await redis.zrange(names.writers, '0', '-1')).toEqual([
        deploymentId(a!.config.kek, a!.config.issuer),
      ]);
      // Passes ran on both instances (each about every second, taking turns) and the marker stays.
      await passes(redis, names, deploymentId(a!.config.kek, a!.config.issuer), 3);
      expect(await redis.exists(names.complete)).toBe(1);
      expect(await redis.zcard(names.writers)).toBe(1);
    } finally {
      redis.disconnect();
      await cluster.close();
    }
  });
});
