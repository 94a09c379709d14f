/**
 * `jot config check` never prints any part of a database, Redis or SMTP password: not after an `@` inside the
 * password, not in a `?password=` query parameter; the host stays visible.
 */
import { describe, expect, it } from 'vitest';

import { jot, serverEnv, tempDir } from './support.js';

describe('jot config check redaction', () => {
  it.each([
    // pg (pg-connection-string) reads the password "p@ssword-SECRET" here, up to the last "@".
    ['JOT_DATABASE_URL', 'postgres://jot:p@ssword-SECRET@127.0.0.1:5432/jot', '127.0.0.1:5432'],
    [
      'JOT_DATABASE_URL',
      'postgres://jot@127.0.0.1:5432/jot?password=hunter2-SECRET&sslmode=require',
      'sslmode',
    ],
    ['JOT_REDIS_URL', 'redis://:p@ss-SECRET@127.0.0.1:6379', '127.0.0.1:6379'],
    ['JOT_SMTP_URL', 'smtp://mailer:pa@ss-SECRET@mail.example.com:587?Token=tok-SECRET', 'mail.example.com'],
  ])('%s=%s shows no part of the password', async (name, url, kept) => {
    const dir = tempDir();
    const r = await jot(['config', 'check', '--json'], { env: serverEnv(dir, { [name]: url }), cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain('SECRET');
    expect(r.stdout).toContain(kept);
  });
});
