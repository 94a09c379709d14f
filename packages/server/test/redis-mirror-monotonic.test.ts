/**
 * The mirror's writes never weaken a key: N instances publish the same feed (a slow one may write an older entry
 * after a newer one), the write-through runs beside the passes, and the CLI writes too. A user entry keeps the
 * highest cut-off and version and the newest entry's status (re-enabling is a newer entry, and applies); no write
 * shortens a key's expiry. Against the Redis of the test run, in a namespace of this file's own.
 */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames, type RedisNames } from '@jot/contract';

import { exec, mirrorPipeline, queueWrite, writeEntryNow } from '../src/services/redis-mirror-writes.js';
import type { Revocation } from '../src/store/index.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './support/redis.js';
import { silentLogger } from './support/silent-logger.js';

const available = await requireRedis('the Redis mirror write tests');

const MINUTE = 60_000;

/** A feed entry of `kind` for `subject`, with `id` and an expiry `inMs` from now. */
function entry(
  id: number,
  kind: Revocation['kind'],
  subject: string,
  inMs: number,
  data: Revocation['data'] = {},
): Revocation {
  return { id, kind, subject, data, createdAt: Date.now(), expiresAt: Date.now() + inMs };
}

describe.runIf(available)('Redis mirror writes', () => {
  let redis: Redis;
  let names: RedisNames;
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.ping(); // ready: the write-through writes nothing before
    names = redisNames(testRedisNamespace(`mono-${randomUUID()}`));
  });
  afterAll(async () => {
    const keys = await redis.keys(`${names.namespace}:*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  /** Writes `entries` in one pipeline, in this order, as a pass (or a full copy) does. */
  async function writePage(entries: Revocation[]): Promise<void> {
    const pipeline = mirrorPipeline(redis);
    for (const e of entries) queueWrite(pipeline, names, e, Date.now());
    await exec(pipeline);
  }

  const stored = async (userId: string): Promise<unknown> =>
    JSON.parse((await redis.get(names.user(userId))) ?? 'null');

  it('keeps a newer user entry when an older one is written after it (write-through)', async () => {
    const user = randomUUID();
    const older = entry(10, 'user', user, 5 * MINUTE, { valid_after: 1000, ver: 3, status: 'disabled' });
    const newer = entry(11, 'user', user, 5 * MINUTE, { valid_after: 2000, ver: 4, status: 'disabled' });
    await writeEntryNow(redis, names, newer, silentLogger);
    await writeEntryNow(redis, names, older, silentLogger);
    expect(await stored(user)).toEqual({ valid_after: 2000, ver: 4, status: 'disabled', id: 11 });
  });

  it('keeps the higher cut-off and version in one page written out of order (a pass, a full copy)', async () => {
    const user = randomUUID();
    await writePage([
      entry(21, 'user', user, 5 * MINUTE, { valid_after: 3000, ver: 7, status: 'active' }),
      entry(20, 'user', user, 5 * MINUTE, { valid_after: 2500, ver: 6, status: 'active' }),
    ]);
    expect(await stored(user)).toEqual({ valid_after: 3000, ver: 7, status: 'active', id: 21 });
  });

  it('applies a newer entry that re-enables a user, and an older disabled one written late does not undo it', async () => {
    const user = randomUUID();
    const disabled = entry(30, 'user', user, 5 * MINUTE, { valid_after: 4000, ver: 8, status: 'disabled' });
    const enabled = entry(31, 'user', user, 5 * MINUTE, { valid_after: 4000, ver: 9, status: 'active' });
    await writePage([disabled]);
    await writePage([enabled]);
    expect(await stored(user)).toEqual({ valid_after: 4000, ver: 9, status: 'active', id: 31 });
    await writeEntryNow(redis, names, disabled, silentLogger);
    expect(await stored(user)).toEqual({ valid_after: 4000, ver: 9, status: 'active', id: 31 });
  });

  it('never lowers the cut-off or version a value without an id (an earlier version) holds', async () => {
    const user = randomUUID();
    // Real magnitudes (seconds since the epoch, a large feed id): the script's JSON keeps them exact.
    const now = Math.floor(Date.now() / 1000);
    const value = JSON.stringify({ valid_after: now, ver: 12, status: 'active' });
    await redis.set(names.user(user), value, 'PX', 5 * MINUTE);
    const late = { valid_after: now - 60, ver: 11, status: 'disabled' };
    await writePage([entry(9_007_199_254, 'user', user, 5 * MINUTE, late)]);
    expect(await stored(user)).toEqual({ valid_after: now, ver: 12, status: 'disabled', id: 9_007_199_254 });
  });

  it('never shortens the expiry of a jti, sid or user key', async () => {
    const [jti, sid, user] = [randomUUID(), randomUUID(), randomUUID()];
    const data = { valid_after: 1, ver: 1, status: 'active' };
    await writePage([
      entry(50, 'jti', jti, 30 * MINUTE),
      entry(51, 'sid', sid, 30 * MINUTE),
      entry(52, 'user', user, 30 * MINUTE, data),
    ]);
    // Later writes of the same keys with a shorter expiry (another writer's, or an older entry's).
    await writePage([entry(53, 'jti', jti, MINUTE), entry(54, 'sid', sid, MINUTE)]);
    await writeEntryNow(redis, names, entry(55, 'user', user, MINUTE, data), silentLogger);
    for (const key of [names.jti(jti), names.sid(sid), names.user(user)]) {
      expect(await redis.pttl(key)).toBeGreaterThan(20 * MINUTE);
    }
    expect(await redis.get(names.jti(jti))).toBe('1');
    expect(await redis.get(names.sid(sid))).toBe('1');
  });

  it('lengthens the expiry when a later write expires later', async () => {
    const jti = randomUUID();
    await writePage([entry(60, 'jti', jti, MINUTE)]);
    await writePage([entry(61, 'jti', jti, 30 * MINUTE)]);
    expect(await redis.pttl(names.jti(jti))).toBeGreaterThan(20 * MINUTE);
  });
});
