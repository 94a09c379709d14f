/**
 * A failure counted against several keys is numbered per key (`FailureLimiter.fail`, `Reservation.fail`;
 * services/limiter.ts): each key is a budget of its own — an address, a claimed client id — and callers record a
 * key's "budget spent" event at THAT key's `max`th failure (plugins/caller-limits.ts). In this instance's memory and
 * on Redis alike.
 *
 * Regression: both answered the largest count of the keys, so a client id past `max` hid an address's `max`th
 * failure, and a client id's `max`th was taken for the address's.
 */
import { randomUUID } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { createFailureLimiter, type FailureLimiter } from '../src/services/limiter.js';
import { redisConnections, requireRedis } from './support/redis.js';

const redisAvailable = await requireRedis('failure counts per key on Redis');
const { connected } = redisConnections();

const backends = [
  { name: 'in memory', run: true, redis: async (): Promise<undefined> => undefined },
  { name: 'on Redis', run: redisAvailable, redis: connected },
];

describe.each(backends)('failure counts per key $name', ({ run, redis }) => {
  async function limiter(max: number): Promise<FailureLimiter> {
    const prefix = `jot:test:counts-per-key:${randomUUID()}:`;
    return createFailureLimiter({ redis: await redis(), prefix, max, windowMs: 60_000 });
  }

  it.runIf(run)('fail: each key numbered by its own count, in the order of the keys', async () => {
    const failures = await limiter(3);
    for (let i = 1; i <= 4; i++) expect(await failures.fail(['client:x'])).toEqual([i]);
    // Before: 5 (the client id's) for both.
    expect(await failures.fail(['ip:a', 'client:x'])).toEqual([1, 5]);
    expect(await failures.fail(['client:x', 'ip:a'])).toEqual([6, 2]);
    expect(await failures.fail(['ip:a'])).toEqual([3]);
  });

  it.runIf(run)('reservation: the reserved key’s count, then each of alsoKeys', async () => {
    const failures = await limiter(3);
    for (let i = 0; i < 4; i++) await failures.fail(['client:x']);
    for (let i = 1; i <= 3; i++) {
      const held = await failures.reserve(['ip:a']);
      expect(held.wait).toBe(0);
      // Before: the largest, 5 to 7 — the address's 3rd (its max-th) never numbered 3.
      expect(await held.fail(['client:x'])).toEqual([i, 4 + i]);
    }
    expect((await failures.reserve(['ip:a'])).wait).toBeGreaterThan(0);
  });

  it.runIf(run)('reservation: a client id at its max-th is not the address’s', async () => {
    const failures = await limiter(3);
    await failures.fail(['client:y']);
    await failures.fail(['client:y']);
    const held = await failures.reserve(['ip:b']);
    // Before: 3, the budget's last, for an address that failed once.
    expect(await held.fail(['client:y'])).toEqual([1, 3]);
    // The client id's count locks nothing the address reserves.
    expect((await failures.reserve(['ip:b'])).wait).toBe(0);
  });
});
