/**
 * A database restored from a backup hands lost feed ids out again. The Redis mirror still holds the lost history's
 * keys — a revocation the database no longer has, a user state from a feed id higher than the new entries' (which
 * monotonic writes would keep over them) — so the publisher empties the namespace before its full copy, with the
 * marker gone meanwhile. Only then: a routine first copy keeps what is there. A copy that started before the mirror
 * was emptied (a pass that lost its database lock) never writes the marker over the emptied list.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames } from '@jot/contract';

import { clearMirror } from '../src/services/redis-mirror-clear.js';
import { publisherPass, type MirrorPassContext } from '../src/services/redis-mirror-pass.js';
import { deploymentId } from '../src/services/redis-mirror.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './support/redis.js';
import { sqliteRestorable, type Restorable } from './support/restorable-store.js';
import { silentLogger } from './support/silent-logger.js';

const available = await requireRedis('the mirror-after-restore test');
const LATER = () => Date.now() + 600_000;

describe.runIf(available)('the Redis mirror of a database that went back', () => {
  let redis: Redis;
  let db: Restorable;
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.ping(); // connected: a pass skips a Redis that is not
  });
  afterAll(() => {
    redis.disconnect();
  });

  const instance = (client: Redis = redis): MirrorPassContext => ({
    redis: client,
    store: db.store(),
    logger: silentLogger,
    names: redisNames(testRedisNamespace(`restore-${randomUUID()}`)),
    deployment: deploymentId(randomBytes(32), 'https://auth.example.com'),
    state: { closed: false, copyNeeded: true },
  });

  it('drops the lost history’s keys and copies the restored list before vouching again', async () => {
    db = await sqliteRestorable();
    try {
      const user = randomUUID();
      const kept = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: kept, expiresAt: LATER() });
      await db.backup();
      let ctx = instance();
      const { names } = ctx;
      // The lost history: a revocation, and the user's state at a high feed id.
      const lost = randomUUID();
      await db.store().addRevocation({ kind: 'jti', subject: lost, expiresAt: LATER() });
      for (let i = 0; i < 3; i++) {
        await db.store().addRevocation({ kind: 'sid', subject: randomUUID(), expiresAt: LATER() });
      }
      await db.store().addRevocation({
        kind: 'user',
        subject: user,
        data: { status: 'active', valid_after: 100, ver: 1 },
        expiresAt: LATER(),
      });
      expect(await publisherPass(ctx)).toBe(true);
      expect(await redis.get(names.jti(lost))).toBe('1');

      await db.restore();
      // The servers were down for the restore, longer than the marker's lease: only the mirrored cursor remains.
      await redis.del(names.complete);
      // After the restore the user is disabled: a lower feed id than the lost 'active' entry's.
      await db.store().addRevocation({
        kind: 'user',
        subject: user,
        data: { status: 'disabled', valid_after: 50, ver: 1 },
        expiresAt: LATER(),
      });
      ctx = { ...ctx, store: db.store(), state: { closed: false, copyNeeded: true } };
      expect(await publisherPass(ctx)).toBe(true);

      expect(await redis.get(names.jti(lost))).toBeNull();
      expect(await redis.get(names.jti(kept))).toBe('1');
      expect(JSON.parse((await redis.get(names.user(user))) ?? '{}')).toMatchObject({ status: 'disabled' });
      expect(await redis.get(names.complete)).not.toBeNull();

      // Vouched at the restored history's cursor: the next pass empties nothing.
      await redis.set(names.jti('unknown-to-the-database'), '1', 'PX', 60_000);
      expect(await publisherPass(ctx)).toBe(true);
      expect(await redis.get(names.jti('unknown-to-the-database'))).toBe('1');
    } finally {
      await db.done();
    }
  });

  it('keeps what a namespace holds on a routine full copy (a start, no restore)', async () => {
    db = await sqliteRestorable();
    try {
      await db.store().addRevocation({ kind: 'jti', subject: randomUUID(), expiresAt: LATER() });
      const ctx = instance();
      expect(await publisherPass(ctx)).toBe(true);
      const other = ctx.names.jti(randomUUID());
      await redis.set(other, '1', 'PX', 60_000);
      // Another instance starting (copyNeeded) on the same database.
      expect(await publisherPass({ ...ctx, state: { closed: false, copyNeeded: true } })).toBe(true);
      expect(await redis.get(other)).toBe('1');
    } finally {
      await db.done();
    }
  });

  it('never writes the marker of a copy that started before the mirror was emptied', async () => {
    db = await sqliteRestorable();
    try {
      await db.store().addRevocation({ kind: 'jti', subject: randomUUID(), expiresAt: LATER() });
      const names = redisNames(testRedisNamespace(`restore-${randomUUID()}`));
      // Another instance empties the mirror while this copy runs: just before this copy's marker script.
      const racing = new Proxy(redis, {
        get(target, prop, receiver) {
          if (prop === 'eval') {
            return async (script: string, keys: number, ...args: (string | number)[]) => {
              if (keys === 5) await clearMirror(target, names);
              return target.eval(script, keys, ...args);
            };
          }
          const value: unknown = Reflect.get(target, prop, receiver);
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        },
      });
      const ctx = { ...instance(racing), names };
      await expect(publisherPass(ctx)).rejects.toThrow(/copying again/);
      expect(await redis.get(names.complete)).toBeNull();
      // Its next pass copies again, and vouches.
      expect(await publisherPass({ ...ctx, redis })).toBe(true);
      expect(await redis.get(names.complete)).not.toBeNull();
    } finally {
      await db.done();
    }
  });
});
