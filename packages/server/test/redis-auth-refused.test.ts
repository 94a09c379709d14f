/**
 * A Redis that refuses the credentials in JOT_REDIS_URL (WRONGPASS for a wrong password, NOAUTH for none) is
 * reported as such — "Redis refused the credentials in JOT_REDIS_URL" — by the server at start and by the CLI's
 * admin operations (ERR_UNAVAILABLE), not as "did not answer", which stays for connection failures. The password is
 * never printed. Against a private redis-server started with --requirepass on a spare port; the spawned server
 * needs `npm run build`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig, openAdminOps } from '../src/index.js';
import { connectRedis } from '../src/services/redis-connection.js';
import {
  cleanup,
  freePort,
  hasRedisServer,
  requireBuiltServer,
  runServerToExit,
  START_DEADLINE_MS,
  serverEnv,
  startTestRedis,
  type TestRedis,
} from './support/processes.js';

const redisAvailable = hasRedisServer('the Redis authentication refusal tests');

describe.skipIf(!redisAvailable)('Redis refusing the credentials in JOT_REDIS_URL', () => {
  let redis: TestRedis;

  beforeAll(async () => {
    requireBuiltServer();
    redis = await startTestRedis();
    await redis.stop();
    await redis.start({ password: 'rightpw' });
  }, 60_000);

  afterAll(cleanup, 30_000);

  const wrong = () => `redis://:wrongpw-SECRET@127.0.0.1:${redis.port}`;

  async function failure(promise: Promise<unknown>): Promise<Error> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Error);
    return err as Error;
  }

  it('connectRedis: a wrong password is WRONGPASS, no password NOAUTH, never "did not answer"', async () => {
    const wrongPass = await failure(connectRedis(wrong(), 2000));
    expect(wrongPass.message).toMatch(
      /^JOT_REDIS_URL: Redis refused the credentials in JOT_REDIS_URL \(WRONGPASS /,
    );
    expect(wrongPass.message).not.toContain('SECRET');
    const noAuth = await failure(connectRedis(`redis://127.0.0.1:${redis.port}`, 2000));
    expect(noAuth.message).toMatch(
      /^JOT_REDIS_URL: Redis refused the credentials in JOT_REDIS_URL \(NOAUTH /,
    );
    // The right password connects.
    const ok = await connectRedis(`redis://:rightpw@127.0.0.1:${redis.port}`, 2000);
    expect(await ok.ping()).toBe('PONG');
    ok.disconnect();
  });

  it('connectRedis: nothing listening is still "did not answer"', async () => {
    const dead = await failure(connectRedis(`redis://:pw-SECRET@127.0.0.1:${await freePort()}`, 2000));
    expect(dead.message).toMatch(/^JOT_REDIS_URL: Redis did not answer \(/);
    expect(dead.message).not.toContain('SECRET');
  });

  it('the CLI admin operations: ERR_UNAVAILABLE saying Redis refused the credentials', async () => {
    const env = serverEnv({ JOT_REDIS_URL: wrong() });
    const err = await failure(openAdminOps(loadConfig({ env, cwd: env.JOT_DATA_DIR, file: false })));
    expect(err).toMatchObject({ code: 'ERR_UNAVAILABLE' });
    expect(err.message).toMatch(
      new RegExp(
        `^JOT_REDIS_URL: Redis at redis://127\\.0\\.0\\.1:${redis.port} refused the credentials in JOT_REDIS_URL \\(WRONGPASS `,
      ),
    );
    expect(err.message).not.toContain('SECRET');
  }, 30_000);

  it(
    'jot-server start: exits 1 saying Redis refused the credentials, without the password',
    async () => {
      const result = await runServerToExit(serverEnv({ JOT_REDIS_URL: wrong() }));
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/Redis refused the credentials in JOT_REDIS_URL \(WRONGPASS /);
      expect(result.stderr).not.toContain('did not answer');
      expect(result.stderr + result.stdout).not.toContain('SECRET');
    },
    START_DEADLINE_MS + 20_000,
  );
});
