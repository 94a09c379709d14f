/**
 * Test helper: is the Redis the suites use reachable? In CI a missing Redis must fail the suite; elsewhere it is
 * skipped with a visible message. `JOT_TEST_REDIS_URL` overrides the address.
 */
import { Redis } from 'ioredis';
import { afterAll } from 'vitest';

export { testRedisNamespace } from './redis-namespace.js';

/** The worker's Redis database: `VITEST_POOL_ID` (1 … 15, vitest.config.ts caps the workers at 15). */
const WORKER_DB = Number(process.env.VITEST_POOL_ID ?? 0);
if (!Number.isInteger(WORKER_DB) || WORKER_DB < 0 || WORKER_DB > 15) {
  throw new Error(`VITEST_POOL_ID ${process.env.VITEST_POOL_ID} has no Redis database of its own (0–15)`);
}

/**
 * The Redis the suites talk to: one logical database per Vitest worker, and each test server in a namespace of its
 * own ({@link testRedisNamespace}, set by `startServer` and `startCluster`), so test files running side by side or
 * one after another never share revocation mirror keys, the mirror's completeness marker, its channel or rate-limit
 * counters.
 * `JOT_TEST_REDIS_URL` names the server; its database is replaced by the worker's.
 */
export const TEST_REDIS_URL = (() => {
  const url = new URL(process.env.JOT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
  url.pathname = `/${WORKER_DB}`;
  return url.href;
})();

/** Why Redis cannot be used, or undefined when it answers. */
async function unreachable(url: string): Promise<string | undefined> {
  const probe = new Redis(url, { lazyConnect: true, connectTimeout: 2000, maxRetriesPerRequest: 0 });
  probe.on('error', () => undefined); // reported by connect() below
  try {
    await probe.connect();
    await probe.ping();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  } finally {
    probe.disconnect();
  }
}

/**
 * Checks Redis for the suite named `suite`: throws in CI when it is missing, warns otherwise. Returns true when the
 * suite should run.
 */
export async function requireRedis(suite: string): Promise<boolean> {
  const problem = await unreachable(TEST_REDIS_URL);
  if (problem === undefined) return true;
  if (process.env.CI) throw new Error(`Redis is required for ${suite} (${TEST_REDIS_URL}): ${problem}`);
  console.warn(`SKIPPED ${suite}: Redis is not reachable at ${TEST_REDIS_URL} (${problem})`);
  return false;
}

/**
 * For a suite of its own connections to the test Redis (`maxRetriesPerRequest: 1`, errors swallowed: a test that
 * breaks one sees its command fail): `connected()` opens one and waits for its PING; each is disconnected after all.
 * Call inside a `describe` (or at a file's top level) so `afterAll` attaches there.
 */
export function redisConnections(): { connected: () => Promise<Redis> } {
  const connections: Redis[] = [];
  afterAll(() => {
    for (const connection of connections) connection.disconnect();
  });
  return {
    async connected() {
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
      redis.on('error', () => undefined);
      connections.push(redis);
      await redis.ping();
      return redis;
    },
  };
}
