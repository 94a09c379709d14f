/**
 * With JOT_REDIS_URL the server mirrors revocations into Redis (for resource servers in strict mode) and shares
 * rate limits through it. In CI a missing Redis fails this file; elsewhere it is skipped with a visible message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';

import { decodeUnverified } from '@jot/jose';

import { redisNames, type RedisNames } from '@jot/contract';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';

const REDIS_URL = TEST_REDIS_URL;
const available = await requireRedis('the server Redis tests');

describe.runIf(available)('Redis', () => {
  let server: TestServer;
  let redis: Redis;
  /** The server's keys (a namespace of its own, from its data directory). */
  let keys: RedisNames;
  beforeAll(async () => {
    server = await startServer({ redisUrl: REDIS_URL, rateLimitAuth: '1000/min' });
    keys = redisNames(server.config.redisNamespace);
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await server.close();
    redis.disconnect();
  });

  it('mirrors logout (jti + sid) and logout-all (user state) with expiries, and publishes each entry', async () => {
    const sub = new Redis(REDIS_URL);
    const messages: string[] = [];
    await sub.subscribe(keys.channel);
    sub.on('message', (_channel, message) => messages.push(message));
    try {
      const tokens = await signUp(server, 'redis@example.com');
      const { jti, sid } = decodeUnverified(tokens.access_token).payload as { jti: string; sid: string };
      await server.request('POST', '/api/logout', { token: tokens.access_token });
      // Written through before the logout answered: no polling needed.
      expect(await redis.get(keys.jti(jti))).toBe('1');
      expect(await redis.get(keys.sid(sid))).toBe('1');
      expect(await redis.pttl(keys.jti(jti))).toBeGreaterThan(0);

      const again = await server.request('POST', '/api/login', {
        body: { email: 'redis@example.com', password: 'correct horse battery' },
      });
      await server.request('POST', '/api/logout-all', { token: again.body.access_token });
      await expect
        .poll(async () => JSON.parse((await redis.get(keys.user(tokens.userId))) ?? '{}'))
        .toMatchObject({
          valid_after: expect.any(Number),
          status: 'active',
        });
      await expect.poll(() => messages.some((m) => m.includes(sid))).toBe(true);
    } finally {
      sub.disconnect();
    }
  });

  it('copies the live list again after Redis lost it', async () => {
    const tokens = await signUp(server, 'resync@example.com');
    const { jti } = decodeUnverified(tokens.access_token).payload as { jti: string };
    await server.request('POST', '/api/logout', { token: tokens.access_token });
    await expect.poll(() => redis.get(keys.jti(jti))).toBe('1');
    await redis.del(keys.jti(jti));
    // The server restarts over the same database (not a second one beside it: two stores on one SQLite file in one
    // process wait for each other's write lock synchronously, and time out under load).
    const { dataDir } = server;
    await server.close({ keepData: true });
    server = await startServer({ redisUrl: REDIS_URL, rateLimitAuth: '1000/min' }, { dataDir });
    expect(server.config.redisNamespace).toBe(keys.namespace);
    // It copied the list again at start.
    expect(await redis.get(keys.jti(jti))).toBe('1');
  });

  it('refuses to start when Redis does not answer, naming the setting', async () => {
    await expect(startServer({ redisUrl: 'redis://127.0.0.1:1' })).rejects.toThrow(/JOT_REDIS_URL/);
  });
});
