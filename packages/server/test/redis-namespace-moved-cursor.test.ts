/**
 * The publisher's cursor (`redis:published`) is one per database, whatever the namespace: while instances of one
 * deployment disagree on `JOT_REDIS_NAMESPACE` (a rename rolling out), a pass of either moves the cursor past entries
 * it published to its own namespace only. The other namespace's marker must then not stand over a list without them:
 * its next pass sees the cursor moved past its marker and copies in full. (Regression: a logout on an instance with
 * the old namespace never reached the new one, and its verifiers accepted the token.) The CLI's passes, which may
 * run without the variable, leave the cursor where it is.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';

import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames, type RedisNames } from '@jot/contract';

import { publisherPass, type MirrorPassContext } from '../src/services/redis-mirror-pass.js';
import { deploymentId } from '../src/services/redis-mirror.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import { silentLogger } from './support/silent-logger.js';

const available = await requireRedis('the moved-cursor test');

describe.runIf(available)('one database, two namespaces', () => {
  let redis: Redis;
  let store: Store;
  const warnings: unknown[] = [];
  let copies = 0;
  const logger: FastifyBaseLogger = {
    ...silentLogger,
    level: 'info',
    info: (_obj: unknown, msg?: string) =>
      void (msg?.includes('copied to Redis in full') === true && copies++),
    warn: (obj: unknown) => void warnings.push(obj),
    child: () => logger,
  };
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.ping(); // connected: a pass skips a Redis that is not
    store = await openStore({ url: ':memory:', dataDir: tmpdir() });
  });
  afterAll(async () => {
    await store.close();
    redis.disconnect();
  });

  it('a namespace whose marker the cursor moved past copies in full before vouching again', async () => {
    const run = randomUUID().slice(0, 8);
    const deployment = deploymentId(randomBytes(32), 'https://auth.example.com');
    const instance = (names: RedisNames): MirrorPassContext => ({
      redis,
      store,
      logger,
      names,
      deployment,
      state: { closed: false, copyNeeded: true },
    });
    const renamed = instance(redisNames(`ns-new-${run}`));
    const old = instance(redisNames(`ns-old-${run}`));
    expect(await publisherPass(renamed)).toBe(true);
    expect(await publisherPass(old)).toBe(true);
    expect(warnings).toEqual([]);

    const jti = randomUUID();
    await store.addRevocation({ kind: 'jti', subject: jti, expiresAt: Date.now() + 600_000 }, Date.now());
    // The old-namespace instance's pass publishes the entry (to its namespace) and moves the shared cursor.
    expect(await publisherPass(old)).toBe(true);
    expect(await redis.get(old.names.jti(jti))).toBe('1');
    expect(await redis.get(renamed.names.jti(jti))).toBeNull();

    // The renamed namespace's next pass: the entry is there before its marker is.
    expect(await publisherPass(renamed)).toBe(true);
    expect(await redis.mget(renamed.names.jti(jti), renamed.names.complete)).toEqual([
      '1',
      expect.any(String),
    ]);
    expect(warnings).toEqual([expect.objectContaining({ namespace: renamed.names.namespace })]);
    // Caught up, both stay vouched for without copying again.
    const copied = copies;
    expect(await publisherPass(old)).toBe(true);
    expect(await publisherPass(renamed)).toBe(true);
    expect(await redis.exists(old.names.complete, renamed.names.complete)).toBe(2);
    expect(copies).toBe(copied);
  });

  it('a marker that cannot be read is no marker: the next pass copies in full and writes its own', async () => {
    const names = redisNames(`ns-odd-${randomUUID().slice(0, 8)}`);
    const server: MirrorPassContext = {
      redis,
      store,
      logger,
      names,
      deployment: deploymentId(randomBytes(32), 'https://auth.example.com'),
      state: { closed: false, copyNeeded: true },
    };
    const jti = randomUUID();
    await store.addRevocation({ kind: 'jti', subject: jti, expiresAt: Date.now() + 600_000 }, Date.now());
    expect(await publisherPass(server)).toBe(true);
    const cursor = await store.getClusterValue('redis:published');
    // Each odd value once vouched for the current cursor to a reader that only looked for a number, or threw.
    for (const odd of [
      'not json',
      `{"cursor":${cursor}`,
      `{"cursor":"${cursor}"}`,
      `[${cursor}]`,
      `{"cursor":${cursor},"deployment":7}`,
    ]) {
      // Only a full copy brings back an entry Redis lost.
      await redis.del(names.jti(jti));
      await redis.set(names.complete, odd, 'PX', 10_000);
      const copied = copies;
      expect(await publisherPass(server), odd).toBe(true);
      expect(copies, odd).toBe(copied + 1);
      expect(await redis.get(names.jti(jti)), odd).toBe('1');
      expect(JSON.parse((await redis.get(names.complete))!), odd).toMatchObject({
        cursor,
        deployment: server.deployment,
      });
    }
  });

  it('a CLI pass in any namespace leaves the cursor: the servers publish its entries, without copying again', async () => {
    const run = randomUUID().slice(0, 8);
    const server: MirrorPassContext = {
      redis,
      store,
      logger,
      names: redisNames(`ns-srv-${run}`),
      deployment: deploymentId(randomBytes(32), 'https://auth.example.com'),
      state: { closed: false, copyNeeded: true },
    };
    const cli = (names: RedisNames): MirrorPassContext => ({
      redis,
      store,
      logger,
      names,
      deployment: undefined,
      state: { closed: false, copyNeeded: true },
    });
    expect(await publisherPass(server)).toBe(true);
    const copied = copies;
    warnings.length = 0;
    for (const names of [redisNames(`ns-cli-${run}`), server.names]) {
      const jti = randomUUID();
      await store.addRevocation({ kind: 'jti', subject: jti, expiresAt: Date.now() + 600_000 }, Date.now());
      expect(await publisherPass(cli(names))).toBe(true);
      expect(await redis.get(names.jti(jti))).toBe('1');
      expect(await publisherPass(server)).toBe(true);
      expect(await redis.mget(server.names.jti(jti), server.names.complete)).toEqual([
        '1',
        expect.any(String),
      ]);
    }
    expect(copies).toBe(copied);
    expect(warnings).toEqual([]);
  });
});
