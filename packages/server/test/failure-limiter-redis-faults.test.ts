/**
 * `FailureLimiter.reserve` when Redis fails in the middle of an attempt (services/limiter.ts), on a redis-server of
 * this file's own (a spare port) that it stops, starts and pauses, with the server's own Redis client
 * (services/redis-connection.ts: fails fast, no offline queue):
 * - a place held on Redis whose release cannot reach Redis is not left spent there for the rest of the window: the
 *   release is applied once Redis answers again (before, every success that ended during a blip stayed counted as a
 *   failure, and a burst of them locked an address that had failed nothing);
 * - a release (owed or sent) gives a place back only into the window it was held in: after a restart of Redis (its
 *   keys lost) a later failure re-creates the key in a new window, which the release must not open;
 * - Redis down at reserve: the same check-and-count in this instance's memory, closed once the budget is spent,
 *   open again when released places come back; nothing throws;
 * - Redis killed while places are held: failing and releasing them throws nothing, failures keep counting here, and
 *   the spent budget stays closed while Redis is away (fail closed), each release giving its local place back.
 * In CI a missing redis-server fails the file; elsewhere it is skipped, visibly.
 */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createFailureLimiter, type FailureLimiter } from '../src/services/limiter.js';
import { connectRedis } from '../src/services/redis-connection.js';
import { cleanup, hasRedisServer, startTestRedis, waitFor, type TestRedis } from './support/processes.js';

const redisServer = hasRedisServer('the failure budget across Redis faults');

describe.runIf(redisServer)('failure budget when Redis fails mid-attempt', () => {
  let redis: TestRedis;
  const clients: Redis[] = [];
  beforeAll(async () => {
    redis = await startTestRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await cleanup();
  });

  /** The server's client: commands time out after 400 ms and fail at once while disconnected. */
  async function serverClient(): Promise<Redis> {
    const client = await connectRedis(redis.url, 400);
    clients.push(client);
    return client;
  }

  async function admin(): Promise<Redis> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    client.on('error', () => undefined);
    clients.push(client);
    return client;
  }

  function limiter(client: Redis, prefix: string, max: number): FailureLimiter {
    return createFailureLimiter({ redis: client, prefix, max, windowMs: 60_000 });
  }

  it('a release that cannot reach Redis is applied there once Redis answers again', async () => {
    const prefix = `jot:test:faults:${randomUUID()}:`;
    const a = limiter(await serverClient(), prefix, 1);
    const b = limiter(await serverClient(), prefix, 1);
    const control = await admin();
    const held = await a.reserve(['ip:blip']);
    expect(held.wait).toBe(0);
    expect(await control.get(`${prefix}ip:blip`)).toBe('1');
    // Redis stalls for a moment (a failover, a slow command): a call of this instance times out, and for the next
    // second it counts in its own memory without trying Redis — the release falls in that second.
    await control.call('CLIENT', 'PAUSE', '2000', 'WRITE');
    expect(await a.blockedFor(['ip:other'])).toBe(0);
    await control.call('CLIENT', 'UNPAUSE');
    await expect(held.release()).resolves.toBeUndefined();
    // Once Redis answers, the released place is given back there: the other instance may check again (before,
    // it stayed spent there for the rest of the window).
    await waitFor(
      'the release to reach Redis',
      async () => {
        await a.blockedFor(['ip:other']);
        return (await control.get(`${prefix}ip:blip`)) === '0';
      },
      10_000,
      50,
    );
    const again = await b.reserve(['ip:blip']);
    expect(again.wait).toBe(0);
    await again.release();
  });

  it('a release owed across a Redis restart does not give back a place of the window a later failure began', async () => {
    // Review finding: Redis restarted (its keys lost) while a release was owed; a later failure re-created the key,
    // and the owed release then decremented that new window, handing back a place it never held.
    const prefix = `jot:test:faults:${randomUUID()}:`;
    const client = await serverClient();
    const a = limiter(client, prefix, 1);
    const control = await admin();
    // A window that began 10 s ago (nothing counted yet), so that no window begun after the restart can end with it.
    await control.set(`${prefix}ip:restart`, '0', 'PX', 50_000);
    const held = await a.reserve(['ip:restart']);
    expect(held.wait).toBe(0);
    expect(await control.get(`${prefix}ip:restart`)).toBe('1');
    await redis.stop();
    await waitFor('the client to notice', () => client.status !== 'ready');
    // The release cannot reach Redis: it is owed.
    await expect(held.release()).resolves.toBeUndefined();
    await redis.start();
    await waitFor('the client to reconnect', () => client.status === 'ready', 15_000, 50);
    const restarted = await admin();
    expect(await restarted.exists(`${prefix}ip:restart`)).toBe(0);
    // A fresh failure once Redis answers: it re-creates the key, and the owed release is settled in the same call.
    // It is numbered by Redis's restarted count (1), not by this instance's own windows (services/limiter.ts).
    expect(await a.fail(['ip:restart'])).toEqual([1]);
    // The fresh failure is still counted on Redis, and the budget (1) is closed for every instance.
    expect(await restarted.get(`${prefix}ip:restart`)).toBe('1');
    const b = limiter(await serverClient(), prefix, 1);
    expect(await b.blockedFor(['ip:restart'])).toBeGreaterThan(0);
  });

  it('a release sent after a Redis restart does not give back a place of the window another instance began', async () => {
    const prefix = `jot:test:faults:${randomUUID()}:`;
    const client = await serverClient();
    const a = limiter(client, prefix, 1);
    const control = await admin();
    // A window that began 10 s ago (nothing counted yet), so that no window begun after the restart can end with it.
    await control.set(`${prefix}ip:resent`, '0', 'PX', 50_000);
    const held = await a.reserve(['ip:resent']);
    expect(held.wait).toBe(0);
    // Redis restarts between the reserve and the release; this instance's client reconnects without a failed call.
    await redis.stop();
    await waitFor('the client to notice', () => client.status !== 'ready');
    await redis.start();
    await waitFor('the client to reconnect', () => client.status === 'ready', 15_000, 50);
    const b = limiter(await serverClient(), prefix, 1);
    expect(await b.fail(['ip:resent'])).toEqual([1]);
    // The release reaches Redis, into a window it held no place in: the other instance's failure stays counted.
    await expect(held.release()).resolves.toBeUndefined();
    const restarted = await admin();
    expect(await restarted.get(`${prefix}ip:resent`)).toBe('1');
    expect(await b.blockedFor(['ip:resent'])).toBeGreaterThan(0);
  });

  it('Redis down at reserve: counted in memory, closed at the budget, reopened by releases; nothing throws', async () => {
    const prefix = `jot:test:faults:${randomUUID()}:`;
    const client = await serverClient();
    const a = limiter(client, prefix, 2);
    await redis.stop();
    await waitFor('the client to notice', () => client.status !== 'ready');
    const first = await a.reserve(['ip:down']);
    const second = await a.reserve(['ip:down']);
    expect([first.wait, second.wait]).toEqual([0, 0]);
    expect((await a.reserve(['ip:down'])).wait).toBeGreaterThan(0);
    await expect(first.release()).resolves.toBeUndefined();
    const third = await a.reserve(['ip:down']);
    expect(third.wait).toBe(0);
    // The address's count, then the client id's own (its first failure), each from this instance's windows.
    expect(await third.fail(['client:down'])).toEqual([2, 1]);
    expect(await second.fail()).toEqual([2]);
    expect(await a.blockedFor(['ip:down'])).toBeGreaterThan(0);
    await redis.start();
    await waitFor('the client to reconnect', () => client.status === 'ready', 15_000, 50);
  });

  it('Redis killed while places are held: fail and release throw nothing; the spent budget stays closed', async () => {
    const prefix = `jot:test:faults:${randomUUID()}:`;
    const client = await serverClient();
    const a = limiter(client, prefix, 2);
    const held = [await a.reserve(['ip:killed']), await a.reserve(['ip:killed'])];
    expect(held.map((r) => r.wait)).toEqual([0, 0]);
    await redis.stop();
    await waitFor('the client to notice', () => client.status !== 'ready');
    // Both places spent while Redis is gone: counted here, so the address stays closed (fail closed).
    // (Each reports the count it was taken as: the first of the budget; the client id its own first, counted here.)
    await expect(held[0]!.fail(['client:killed'])).resolves.toEqual([1, 1]);
    expect((await a.reserve(['ip:killed'])).wait).toBeGreaterThan(0);
    // A release gives its local place back: one more attempt may be checked, and no more.
    await expect(held[1]!.release()).resolves.toBeUndefined();
    const next = await a.reserve(['ip:killed']);
    expect(next.wait).toBe(0);
    expect((await a.reserve(['ip:killed'])).wait).toBeGreaterThan(0);
    await next.release();
    await redis.start();
    await waitFor('the client to reconnect', () => client.status === 'ready', 15_000, 50);
  });
});
