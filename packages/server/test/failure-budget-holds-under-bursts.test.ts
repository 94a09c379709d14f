/**
 * The failure budgets of the token routes hold against bursts: attempts in flight at once each take their place in
 * the address's budget before their credential is checked, so a burst over two instances sharing Redis gets no more
 * checks than the budget — the rest are refused before any lookup (POST /api/token/refresh: 429
 * ERR_RATE_LIMITED; POST /oauth/token: 429 ERR_CLIENT_AUTH_LOCKED).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { postForm } from './support/oauth.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './support/redis.js';

const redisAvailable = await requireRedis('the token-route failure budgets under bursts');

const BUDGET = 10;
const BURST = 120;

let next = randomInt(1, 2 ** 16 - 100);
const freshAddress = (): string => `10.77.${(next >> 8) & 255}.${next++ & 255}`;

function tally(answers: TestResponse[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const res of answers) {
    const key = `${res.status} ${String(res.body?.code)}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe.runIf(redisAvailable)('a burst from one address over two instances sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    // A Redis command that times out is counted in the instance's own memory (the design's fallback): on a loaded
    // 2-core machine 120 commands at once can pass the default 150 ms, so the test gives Redis the time it needs to
    // answer — what is checked is the one atomic budget, not the fallback.
    const settings = {
      rateLimitAuth: `${BUDGET}/60s`,
      trustProxy: true,
      redisUrl: TEST_REDIS_URL,
      redisTimeout: '10s',
      // One deployment: one namespace and one KEK.
      redisNamespace: testRedisNamespace(randomUUID()),
      kek: randomBytes(32).toString('base64url'),
    };
    a = await startServer(settings);
    b = await startServer(settings);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it(`${BURST} unknown refresh tokens at once: at most ${BUDGET} are looked up`, async () => {
    const address = freshAddress();
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        (i % 2 === 0 ? a : b).request('POST', '/api/token/refresh', {
          body: { refresh_token: `burst-${i}-${'q'.repeat(40)}` },
          headers: { 'x-forwarded-for': address },
        }),
      ),
    );
    const counts = tally(answers);
    expect(counts['401 ERR_REFRESH_TOKEN_INVALID'] ?? 0).toBeLessThanOrEqual(BUDGET);
    expect((counts['401 ERR_REFRESH_TOKEN_INVALID'] ?? 0) + (counts['429 ERR_RATE_LIMITED'] ?? 0)).toBe(
      BURST,
    );
  });

  it(`${BURST} wrong client secrets at once at /oauth/token: at most ${BUDGET} are checked`, async () => {
    const address = freshAddress();
    const answers = await Promise.all(
      Array.from({ length: BURST }, (_, i) =>
        postForm(
          i % 2 === 0 ? a : b,
          '/oauth/token',
          { grant_type: 'client_credentials', client_id: `no-such-client-${i}`, client_secret: `guess-${i}` },
          { 'x-forwarded-for': address },
        ),
      ),
    );
    const counts = tally(answers);
    expect(counts['401 ERR_CLIENT_AUTH_FAILED'] ?? 0).toBeLessThanOrEqual(BUDGET);
    expect((counts['401 ERR_CLIENT_AUTH_FAILED'] ?? 0) + (counts['429 ERR_CLIENT_AUTH_LOCKED'] ?? 0)).toBe(
      BURST,
    );
  });
});
