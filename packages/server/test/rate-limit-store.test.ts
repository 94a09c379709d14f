/**
 * The Redis rate-limit store keeps one budget per route (as @fastify/rate-limit's own Redis store does): each
 * route's per-address limit counts in a key of its own, not in one key per address shared by every route, and a
 * `createRateLimit` limit keeps the key its name gives it. Real @fastify/rate-limit, real Redis, a key prefix of
 * this run's own.
 */
import { randomBytes } from 'node:crypto';

import rateLimit from '@fastify/rate-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { fallbackRateLimitStore } from '../src/http/rate-limit-store.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';

const available = await requireRedis('the Redis rate-limit store tests');
const prefix = `jot:test:rl:${randomBytes(6).toString('hex')}:`;
const quiet = { warn: () => undefined, info: () => undefined };

describe.runIf(available)('the Redis rate-limit store', () => {
  let redis: Redis;
  let app: FastifyInstance;
  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    // The store counts locally until the client is ready (it never waits for Redis).
    if (redis.status !== 'ready') await new Promise((resolve) => redis.once('ready', resolve));
    app = Fastify();
    await app.register(rateLimit, { global: false, store: fallbackRateLimitStore(redis, prefix, quiet) });
    const limited = { config: { rateLimit: { max: 2, timeWindow: 60_000 } } };
    app.post('/api/login', limited, async () => ({ ok: true }));
    app.post('/api/password/forgot', limited, async () => ({ ok: true }));
    const named = app.createRateLimit({ max: 1, timeWindow: 60_000, keyGenerator: () => 'mail:someone' });
    app.post('/named', async (request, reply) => {
      const result = await named(request);
      return !result.isAllowed && result.isExceeded ? reply.code(429).send({ limited: true }) : { ok: true };
    });
    await app.ready();
  });
  afterAll(async () => {
    await app.close();
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    redis.disconnect();
  });

  const status = async (url: string): Promise<number> =>
    (await app.inject({ method: 'POST', url })).statusCode;

  it('gives each route its own budget per address', async () => {
    expect([await status('/api/login'), await status('/api/login')]).toEqual([200, 200]);
    // A second route from the same address is not charged for the first one's requests.
    expect(await status('/api/password/forgot')).toBe(200);
    expect(await status('/api/login')).toBe(429);
    expect(await status('/api/password/forgot')).toBe(200);
    expect(await status('/api/password/forgot')).toBe(429);
    const keys = (await redis.keys(`${prefix}*`)).sort();
    expect(keys).toEqual([
      `${prefix}POST/api/login-127.0.0.1`,
      `${prefix}POST/api/password/forgot-127.0.0.1`,
    ]);
  });

  it('keys a limit of its own by the name its key generator gives', async () => {
    expect([await status('/named'), await status('/named')]).toEqual([200, 429]);
    expect(await redis.get(`${prefix}-mail:someone`)).toBe('2');
  });
});
