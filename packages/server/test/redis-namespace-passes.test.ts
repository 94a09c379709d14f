/**
 * The publisher pass and another deployment writing the same Redis namespace, at the moments a whole-server test
 * cannot reach: a deployment that appears between a pass's start and the marker it writes, and a copy that outlasts
 * the 30 s writer window. In none of them may a completeness marker stand over a list another deployment is still
 * writing (strict verifiers of both would trust it).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames, type RedisNames } from '@jot/contract';

import {
  publisherPass,
  WRITER_WINDOW_MS,
  type MirrorPassContext,
} from '../src/services/redis-mirror-pass.js';
import { deploymentId } from '../src/services/redis-mirror.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import { silentLogger } from './support/silent-logger.js';

const available = await requireRedis('the publisher pass namespace tests');

const silent = silentLogger;

/** Redis's own clock in ms, the writers set's scores. */
async function redisNow(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
}

/** `redis`, with `beforeEval(numkeys, args)` awaited before each EVAL is sent. */
function withEvalHook(redis: Redis, beforeEval: (numkeys: number, args: unknown[]) => Promise<void>): Redis {
  return new Proxy(redis, {
    get(target, prop) {
      if (prop === 'eval') {
        return async (script: string, numkeys: number, ...args: (string | number)[]) => {
          await beforeEval(numkeys, args);
          return target.eval(script, numkeys, ...args);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** A pass context of a deployment of its own (a fresh KEK) on `store`. */
function deployment(redis: Redis, store: Store, names: RedisNames): MirrorPassContext {
  return {
    redis,
    store,
    logger: silent,
    names,
    deployment: deploymentId(randomBytes(32), 'https://auth.example.com'),
    state: { closed: false, copyNeeded: true },
  };
}

describe.runIf(available)('publisher passes and another deployment in the namespace', () => {
  let redis: Redis;
  const stores: Store[] = [];
  const newStore = async (): Promise<Store> => {
    const store = await openStore({ url: ':memory:', dataDir: tmpdir() });
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.ping(); // connected: a pass skips a Redis that is not (and answers false, as for a conflict)
  });
  afterAll(async () => {
    for (const store of stores) await store.close();
    redis.disconnect();
  });

  it('a deployment seen just before the marker of a full copy is set: no marker', async () => {
    const names = redisNames(`ns-pass-copy-${randomUUID().slice(0, 8)}`);
    // The marker of a copy is the one EVAL with five keys (writers, marker, sentinel, epoch, mirrored).
    const hooked = withEvalHook(redis, async (numkeys) => {
      if (numkeys === 5) await redis.zadd(names.writers, await redisNow(redis), 'another deployment');
    });
    const ctx = deployment(hooked, await newStore(), names);
    expect(await publisherPass(ctx)).toBe(false);
    expect(await redis.exists(names.complete)).toBe(0);
    expect(ctx.state.copyNeeded).toBe(true);
  });

  it('a deployment seen just before a caught-up pass renews the marker: the marker is gone', async () => {
    const names = redisNames(`ns-pass-renew-${randomUUID().slice(0, 8)}`);
    let arrive = false;
    // The renewal is the EVAL with three keys and five arguments (the claim has two keys, the copy's marker five).
    const hooked = withEvalHook(redis, async (numkeys, args) => {
      if (arrive && numkeys === 3 && args.length === 8) {
        await redis.zadd(names.writers, await redisNow(redis), 'another deployment');
      }
    });
    const ctx = deployment(hooked, await newStore(), names);
    expect(await publisherPass(ctx)).toBe(true);
    expect(await redis.exists(names.complete)).toBe(1);
    arrive = true;
    expect(await publisherPass(ctx)).toBe(false);
    expect(await redis.exists(names.complete)).toBe(0);
  });

  it('a copy that outlasts the writer window stays seen: a deployment arriving meanwhile never vouches for it', async () => {
    const names = redisNames(`ns-pass-long-${randomUUID().slice(0, 8)}`);
    const now = Date.now();
    // Three pages of 500: the copy reads the feed three times.
    const storeB = await newStore();
    for (let i = 0; i < 1001; i++) {
      await storeB.addRevocation({ kind: 'jti', subject: `b${i}`, expiresAt: now + 600_000 }, now);
    }
    const a = deployment(redis, await newStore(), names);
    const markersDuringCopy: number[] = [];
    let reads = 0;
    const slowFeed = new Proxy(storeB, {
      get(target, prop) {
        const value: unknown = Reflect.get(target, prop, target);
        if (typeof value !== 'function') return value;
        if (prop === 'withLock') {
          // The pass's transaction store is what the copy reads: wrap it too.
          return (name: Parameters<Store['withLock']>[0], work: (tx: Store) => Promise<unknown>) =>
            target.withLock(name, (tx) => work(wrapTx(tx)));
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    });
    const wrapTx = (tx: Store): Store =>
      new Proxy(tx, {
        get(target, prop) {
          const value: unknown = Reflect.get(target, prop, target);
          if (typeof value !== 'function') return value;
          if (prop !== 'listRevocationsSince') return (value as (...a: unknown[]) => unknown).bind(target);
          return async (...args: Parameters<Store['listRevocationsSince']>) => {
            reads += 1;
            if (reads === 2) {
              // B's copy has run for longer than the window (its last claim aged past it), and A's pass runs.
              const aged = (await redisNow(redis)) - WRITER_WINDOW_MS - 1000;
              await redis.zadd(names.writers, aged, b.deployment!);
              await publisherPass(a);
            }
            if (reads >= 3) markersDuringCopy.push(await redis.exists(names.complete));
            return target.listRevocationsSince(...args);
          };
        },
      });
    const b = deployment(redis, slowFeed, names);
    expect(await publisherPass(b)).toBe(false);
    // Seen again at its next page, B is A's conflict: no marker at any later read, none after.
    expect(markersDuringCopy).not.toContain(1);
    expect(await redis.exists(names.complete)).toBe(0);
    expect(await publisherPass(a)).toBe(false);
  });
});
