/**
 * The CLI's admin operations with `JOT_REDIS_URL`, through `openAdminOps` against a running server of the same
 * database: a revocation the command makes is in Redis when it returns, and the command never acts as a writer of
 * the deployment's namespace. Reading commands and revocations accept any `JOT_KEK`; with such a KEK, a CLI that
 * recorded itself would be a second deployment to every running server (no marker for 30 s, strict verifiers
 * refusing, ERR_REDIS_NAMESPACE_SHARED in their logs). (The cursor the CLI leaves alone: redis-namespace-moved-cursor.)
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { redisNames } from '@jot/contract';

import { loadConfig, openAdminOps } from '../src/index.js';
import { deploymentId } from '../src/services/redis-mirror.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { requireTestDatabase } from './support/processes.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';

const database = (await requireRedis('the CLI Redis tests'))
  ? await requireTestDatabase('the CLI Redis tests')
  : undefined;

describe.runIf(database !== undefined)('the CLI with Redis', () => {
  const servers: TestServer[] = [];
  afterAll(async () => {
    for (const server of servers) await server.close();
    await database?.drop();
  });

  it('writes its revocations through, and another JOT_KEK leaves the deployment alone writing its namespace', async () => {
    const names = redisNames(`ns-cli-${randomUUID().slice(0, 8)}`);
    const lines: { level: number; code?: string; msg: string }[] = [];
    const server = await startServer(
      { redisUrl: TEST_REDIS_URL, redisNamespace: names.namespace, databaseUrl: database!.url },
      {
        logger: {
          level: 'warn',
          stream: { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) },
        },
      },
    );
    servers.push(server);
    const user = await signUp(server, 'cli@example.com');
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const ops = await openAdminOps(
        loadConfig({
          env: {},
          file: false,
          overrides: {
            nodeEnv: 'test',
            dataDir: server.dataDir,
            databaseUrl: database!.url,
            redisUrl: TEST_REDIS_URL,
            redisNamespace: names.namespace,
            // Not the deployment's: `users list` and the like accept any.
            kek: randomBytes(32).toString('base64url'),
          },
        }),
      );
      try {
        await ops.revokeAllSessions((await ops.findUser('cli@example.com'))!);
        const state = await redis.get(names.user(user.userId));
        expect(JSON.parse(state!)).toMatchObject({ ver: expect.any(Number) });
      } finally {
        await ops.close();
      }
      expect(await redis.zrange(names.writers, '0', '-1')).toEqual([
        deploymentId(server.config.kek, server.config.issuer),
      ]);
      expect(await redis.exists(names.complete)).toBe(1);
      // The server's next pass publishes the entry and keeps vouching.
      const before = Number(
        await redis.zscore(names.writers, deploymentId(server.config.kek, server.config.issuer)),
      );
      await expect
        .poll(async () =>
          Number(await redis.zscore(names.writers, deploymentId(server.config.kek, server.config.issuer))),
        )
        .toBeGreaterThan(before);
      expect(await redis.exists(names.complete)).toBe(1);
      // Nothing about the mirror in the server's log: no conflict, no copy again.
      expect(lines.filter((l) => l.msg.includes('Redis')).map((l) => l.msg)).toEqual([]);
    } finally {
      redis.disconnect();
    }
  });
});
