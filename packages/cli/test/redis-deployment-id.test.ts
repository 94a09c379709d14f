/**
 * `jot redis deployment-id` prints the id the deployment's servers write into the Redis mirror's completeness marker
 * (what strict verifiers are given as `revocation.deployment`), computed offline from `JOT_KEK` and `JOT_ISSUER`
 * exactly as the server derives it — and never the KEK.
 */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { deploymentId } from '../../server/src/services/redis-mirror.js';
import { errorLine, jot, serverEnv, tempDir } from './support.js';

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
