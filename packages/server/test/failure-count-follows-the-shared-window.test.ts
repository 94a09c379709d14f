/**
 * The count a failure is numbered with (`FailureLimiter.fail`, `Reservation.fail`; services/limiter.ts) while Redis
 * answers is Redis's: the shared window's, the one that decides refusals. Callers act on it — the failure numbered
 * `max` records the "budget spent" `rate_limited` event (plugins/caller-limits.ts).
 *
 * Regression: the count was the larger of Redis's and this instance's own, and the instance's window does not begin
 * or end with the shared one. Once the shared window ended while the instance's still ran, the first failure of the
 * new shared window (Redis: 1) was numbered from the stale local count (2 of a budget of 2): a false "budget spent"
 * event for an address that had failed once. The local count is still kept, and used when Redis does not answer.
 */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { createFailureLimiter, type FailureLimiter } from '../src/services/limiter.js';
import { waitFor } from './support/processes.js';
import { redisConnections, requireRedis, TEST_REDIS_URL } from './support/redis.js';

const redisAvailable = await requireRedis('the failure count of the shared window');

describe.runIf(redisAvailable)('the failure count follows the shared window while Redis answers', () => {
  const { connected } = redisConnections();

  /**
   * An instance whose own windows never end (its clock stands still) over a short shared window on Redis: the
   * instance's window outlives every shared one, as it does when it began later than the shared window.
   */
  async function frozenInstance(
    max: number,
    windowMs: number,
  ): Promise<{ limiter: FailureLimiter; key: string }> {
    const prefix = `jot:test:shared-count:${randomUUID()}:`;
    const limiter = createFailureLimiter({
      redis: await connected(),
      prefix,
      max,
      windowMs,
      clock: () => 1_000,
    });
    return { limiter, key: `${prefix}ip:a` };
  }

  async function sharedWindowEnded(control: Redis, key: string): Promise<void> {
    await waitFor('the shared window to end', async () => (await control.exists(key)) === 0, 10_000, 20);
  }

  it('fail: the first failure of a new shared window is numbered 1, though this instance counted one before', async () => {
    const control = await connected();
    const { limiter, key } = await frozenInstance(2, 300);
    expect(await limiter.fail(['ip:a'])).toEqual([1]);
    await sharedWindowEnded(control, key);
    // Before the fix: 2, the budget's last (a false "budget spent" event).
    expect(await limiter.fail(['ip:a'])).toEqual([1]);
    expect(await limiter.blockedFor(['ip:a'])).toBe(0);
    expect(await limiter.fail(['ip:a'])).toEqual([2]);
    expect(await limiter.blockedFor(['ip:a'])).toBeGreaterThan(0);
  });

  it('reserve: the first place of a new shared window is numbered 1, though this instance counted one before', async () => {
    const control = await connected();
    const { limiter, key } = await frozenInstance(2, 300);
    const first = await limiter.reserve(['ip:a']);
    expect(first.wait).toBe(0);
    expect(await first.fail()).toEqual([1]);
    await sharedWindowEnded(control, key);
    const second = await limiter.reserve(['ip:a']);
    expect(second.wait).toBe(0);
    // Before the fix: 2.
    expect(await second.fail()).toEqual([1]);
    const third = await limiter.reserve(['ip:a']);
    expect(await third.fail()).toEqual([2]);
    expect((await limiter.reserve(['ip:a'])).wait).toBeGreaterThan(0);
  });

  it('Redis lost the key (a restart): the count restarts with Redis, as the refusals do', async () => {
    const control = await connected();
    const prefix = `jot:test:shared-count:${randomUUID()}:`;
    const limiter = createFailureLimiter({ redis: await connected(), prefix, max: 3, windowMs: 60_000 });
    expect(await limiter.fail(['ip:a'])).toEqual([1]);
    expect(await limiter.fail(['ip:a'])).toEqual([2]);
    await control.del(`${prefix}ip:a`);
    expect(await limiter.fail(['ip:a'])).toEqual([1]);
    expect(await limiter.blockedFor(['ip:a'])).toBe(0);
  });
});

describe.runIf(redisAvailable)('the failure count when Redis does not answer', () => {
  /** An instance that counted `before` failures of `ip:a` on Redis, then lost its connection. */
  async function cutOff(max: number, before: number): Promise<FailureLimiter> {
    const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    redis.on('error', () => undefined);
    await redis.ping();
    const prefix = `jot:test:shared-count:${randomUUID()}:`;
    const limiter = createFailureLimiter({ redis, prefix, max, windowMs: 60_000 });
    for (let i = 1; i <= before; i++) expect(await limiter.fail(['ip:a'])).toEqual([i]);
    redis.disconnect();
    await waitFor('the client to stop', () => redis.status !== 'ready');
    return limiter;
  }

  it('fail: numbered from this instance’s count, which kept the failures Redis counted', async () => {
    const limiter = await cutOff(3, 2);
    expect(await limiter.blockedFor(['ip:a'])).toBe(0);
    expect(await limiter.fail(['ip:a'])).toEqual([3]);
    expect(await limiter.blockedFor(['ip:a'])).toBeGreaterThan(0);
  });

  it('reserve: checked and numbered from this instance’s count', async () => {
    const limiter = await cutOff(3, 2);
    const held = await limiter.reserve(['ip:a']);
    expect(held.wait).toBe(0);
    expect(await held.fail()).toEqual([3]);
    expect((await limiter.reserve(['ip:a'])).wait).toBeGreaterThan(0);
  });
});
