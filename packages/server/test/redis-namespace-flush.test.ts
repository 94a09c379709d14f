/**
 * Two deployments (two KEKs) sharing one Redis namespace by mistake, and Redis losing its data (review finding): the
 * writers set that catches the sharing is lost with it, so the first deployment to copy afterwards finds itself alone
 * and writes the completeness marker. The other deployment's strict verifiers used to trust that marker — accepting
 * a token revoked in their own deployment — until the other deployment's next pass, for as long as its servers were
 * down. The marker names its deployment, and a verifier trusts only its own: told (`revocation.deployment`) or
 * pinned from the first marker it read.
 */
import { randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { redisNames, type RedisNames } from '@jot/contract';
import { createVerifier, type Verifier } from '@jot/verify';

import { deploymentId } from '../src/services/redis-mirror.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import { verifyOutcome } from './support/verify-outcome.js';

const available = await requireRedis('the Redis flush test');

/** A logged line, parsed. */
interface Line {
  level: number;
  msg: string;
  namespace?: string;
  deployment?: string;
}

/** A server on the test Redis with `namespace`, logging info and above into `lines`. */
function deployment(namespace: string, lines: Line[], dataDir?: string): Promise<TestServer> {
  return startServer(
    { redisUrl: TEST_REDIS_URL, redisNamespace: namespace },
    {
      ...(dataDir === undefined ? {} : { dataDir }),
      logger: {
        level: 'info',
        stream: { write: (line: string) => void lines.push(JSON.parse(line) as Line) },
      },
    },
  );
}

/** What Redis restarting without persistence does to one namespace (only this test's keys: the Redis is shared). */
async function loseData(redis: Redis, names: RedisNames): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${names.namespace}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

describe.runIf(available)('Redis lost its data and another deployment copied first', () => {
  let redis: Redis;
  const servers: TestServer[] = [];
  const verifiers: Verifier[] = [];
  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await Promise.all(verifiers.map((v) => v.close()));
    for (const server of servers) await server.close();
    redis.disconnect();
  });

  const strictVerifier = (server: TestServer, namespace: string, id?: string): Verifier => {
    const verifier = createVerifier({
      issuer: server.config.issuer,
      audience: server.config.issuer,
      jwksUri: `${server.url}/.well-known/jwks.json`,
      revocation: {
        strategy: 'strict',
        redis: TEST_REDIS_URL,
        namespace,
        timeout: '2s',
        ...(id === undefined ? {} : { deployment: id }),
      },
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });
    verifiers.push(verifier);
    return verifier;
  };

  it("a deployment's verifiers never trust the other's list: a token revoked in their own stays refused", async () => {
    const names = redisNames(`ns-flush-${randomUUID().slice(0, 8)}`);
    const linesA: Line[] = [];
    let serverA = await deployment(names.namespace, linesA);
    servers.push(serverA);
    const idA = deploymentId(serverA.config.kek, serverA.config.issuer);
    // The server says which deployment it writes as, with the namespace: what its verifiers are given.
    const started = linesA.find((l) => l.deployment === idA && l.namespace === names.namespace);
    expect(started).toMatchObject({ level: 30, msg: expect.stringContaining(`deployment: "${idA}"`) });
    expect(JSON.stringify(linesA)).not.toContain(serverA.config.kek.toString('base64url'));

    const user = await signUp(serverA, 'flush@example.com');
    const pinned = strictVerifier(serverA, names.namespace);
    const told = strictVerifier(serverA, names.namespace, idA);
    expect(await verifyOutcome(pinned, user.access_token)).toBe('accepted');
    expect(await verifyOutcome(told, user.access_token)).toBe('accepted');
    expect(pinned.stats().revocation.deployment).toBe(idA);
    expect((await serverA.request('POST', '/api/logout', { token: user.access_token })).status).toBe(204);
    for (const verifier of [pinned, told]) {
      await expect
        .poll(() => verifyOutcome(verifier, user.access_token), { timeout: 15_000 })
        .toBe('ERR_TOKEN_REVOKED jti');
    }

    // A's servers are down and Redis restarts empty; B (another KEK), given the same namespace by mistake, starts:
    // alone in the (lost) writers set, it copies its own list and writes the marker.
    const dataDirA = serverA.dataDir;
    await serverA.close({ keepData: true });
    servers.splice(servers.indexOf(serverA), 1);
    await loseData(redis, names);
    const serverB = await deployment(names.namespace, []);
    servers.push(serverB);
    const idB = deploymentId(serverB.config.kek, serverB.config.issuer);
    expect(idB).not.toBe(idA);
    await expect
      .poll(async () => JSON.parse((await redis.get(names.complete)) ?? '{}') as { deployment?: string })
      .toMatchObject({ deployment: idB });

    // B's list does not hold A's logout: A's verifiers refuse B's mirror instead of accepting the revoked token.
    expect(await verifyOutcome(pinned, user.access_token)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    expect(await verifyOutcome(told, user.access_token)).toBe('ERR_VERIFY_REVOCATION_REFUSED deployment');
    expect(pinned.stats().revocation.lastError).toContain(`"${idB}"`);
    // B's own verifiers trust it.
    const other = await signUp(serverB, 'other@example.com');
    expect(await verifyOutcome(strictVerifier(serverB, names.namespace, idB), other.access_token)).toBe(
      'accepted',
    );

    // A comes back: the two deployments see each other again (no marker at all), and once B is gone A vouches for
    // its own list again — its verifiers, never restarted, find the logout there.
    serverA = await deployment(names.namespace, [], dataDirA);
    servers.push(serverA);
    expect(deploymentId(serverA.config.kek, serverA.config.issuer)).toBe(idA);
    await serverB.close();
    servers.splice(servers.indexOf(serverB), 1);
    await expect
      .poll(
        async () => {
          // B's last pass is dropped from the writers set instead of waiting out the 30 s window.
          await redis.zrem(names.writers, idB);
          return verifyOutcome(told, user.access_token);
        },
        { timeout: 15_000 },
      )
      .toBe('ERR_TOKEN_REVOKED jti');
    expect(await verifyOutcome(pinned, user.access_token)).toBe('ERR_TOKEN_REVOKED jti');
  });
});
