/**
 * `jot redis deployment-id` prints the id the deployment's servers write into the Redis mirror's completeness marker
 * (what strict verifiers are given as `revocation.deployment`), computed offline from `JOT_KEK` and `JOT_ISSUER`
 * exactly as the server derives it — and never the KEK.
 */
import { randomBytes, randomUUID } from 'node:crypto';

import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { parseCompletenessMarker, redisNames } from '@jot/contract';

import { deploymentId } from '../../server/src/services/redis-mirror.js';
import { requireRedis, TEST_REDIS_URL } from '../../server/test/support/redis.js';
import { errorLine, jot, serve, serverEnv, tempDir } from './support.js';

const redisAvailable = await requireRedis('jot redis deployment-id against a running server');

describe('jot redis deployment-id', () => {
  const kek = randomBytes(32);
  const env = (extra: Record<string, string> = {}) =>
    serverEnv(tempDir(), { JOT_KEK: kek.toString('base64url'), ...extra });

  it("prints the server's id for JOT_KEK and JOT_ISSUER, alone on stdout, and never the KEK", async () => {
    const r = await jot(['redis', 'deployment-id'], { env: env() });
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${deploymentId(kek, 'http://jot.test')}\n`);
    expect(r.stderr).toBe('');
    expect(r.stdout + r.stderr).not.toContain(kek.toString('base64url'));
  });

  it('is another id for another issuer or KEK (another deployment)', async () => {
    const staging = await jot(['redis', 'deployment-id'], {
      env: env({ JOT_ISSUER: 'http://staging.jot.test' }),
    });
    expect(staging.stdout.trim()).toBe(deploymentId(kek, 'http://staging.jot.test'));
    const other = await jot(['redis', 'deployment-id'], {
      env: env({ JOT_KEK: randomBytes(32).toString('base64url') }),
    });
    expect(other.stdout.trim()).not.toBe(deploymentId(kek, 'http://jot.test'));
  });

  it('--json names the namespace and issuer too', async () => {
    const r = await jot(['redis', 'deployment-id', '--json'], {
      env: env({ JOT_REDIS_NAMESPACE: 'billing' }),
    });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      deployment: deploymentId(kek, 'http://jot.test'),
      namespace: 'billing',
      issuer: 'http://jot.test',
    });
  });

  it("warns that a development KEK is not the servers' when JOT_KEK is unset", async () => {
    const r = await jot(['redis', 'deployment-id'], { env: serverEnv(tempDir()) });
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^[A-Za-z0-9_-]{16}$/);
    expect(r.stderr).toMatch(/^warning: this is the id of the development KEK in .*dev-kek/);
  });

  it('exits 2 naming the bad setting, like the server', async () => {
    const r = await jot(['redis', 'deployment-id'], { env: env({ JOT_KEK: 'too-short' }) });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(errorLine(r)).toMatch(/^jot: ERR_CONFIG_INVALID: JOT_KEK is invalid/);
    expect(r.stderr).not.toContain('too-short');
  });
});

describe.runIf(redisAvailable)('jot redis deployment-id against a running server', () => {
  it('prints the id `jot serve` writes into the marker from the same environment (an issuer with a path and a trailing slash)', async () => {
    // The id is what verifiers compare with the marker byte for byte: the CLI must read JOT_KEK and JOT_ISSUER
    // exactly as the server does — no normalisation of one side only (a trailing slash, a path).
    const dir = tempDir();
    const names = redisNames(`jot-test:cli-id-${randomUUID().slice(0, 8)}`);
    const env = serverEnv(dir, {
      JOT_KEK: randomBytes(32).toString('base64url'),
      JOT_ISSUER: 'http://jot.test/tenant/',
      JOT_PORT: '0',
      JOT_LOG_LEVEL: 'info',
      JOT_REDIS_URL: TEST_REDIS_URL,
      JOT_REDIS_NAMESPACE: names.namespace,
    });
    const server = await serve(env, dir);
    const redis = new Redis(TEST_REDIS_URL);
    try {
      // The server's first pass writes the marker before it serves, unless Redis failed it (a later pass then does).
      await expect
        .poll(async () => parseCompletenessMarker(await redis.get(names.complete))?.deployment)
        .toMatch(/^[A-Za-z0-9_-]{16}$/);
      const written = parseCompletenessMarker(await redis.get(names.complete))?.deployment;
      const printed = await jot(['redis', 'deployment-id'], { env, cwd: dir });
      expect(printed).toMatchObject({ code: 0, stderr: '' });
      expect(printed.stdout).toBe(`${written}\n`);
      // The server's start line names the same id, with the namespace.
      const lines = server
        .stdout()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { deployment?: string; namespace?: string; msg: string });
      expect(lines).toContainEqual(
        expect.objectContaining({
          deployment: written,
          namespace: names.namespace,
          msg: expect.stringContaining(`written as the deployment "${written}"`),
        }),
      );
      const json = await jot(['redis', 'deployment-id', '--json'], { env, cwd: dir });
      expect(JSON.parse(json.stdout)).toEqual({
        deployment: written,
        namespace: names.namespace,
        issuer: 'http://jot.test/tenant/',
      });
    } finally {
      expect((await server.stop()).code).toBe(0);
      await redis.del(names.complete, names.writers);
      redis.disconnect();
    }
  });
});
