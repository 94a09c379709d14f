/**
 * `jot config check` never prints any part of a database, Redis or SMTP password: not after an `@` inside the
 * password, not in a `?password=` query parameter; the host stays visible.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { errorLine, jot, serverEnv, tempDir } from './support.js';

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

  // A URL with the right scheme that does not parse (no host, a port past 65535) is refused by the check, as the
  // docs promise, rather than passing it and failing at start with a bare ERR_INVALID_URL.
  it.each([
    ['JOT_SMTP_URL', 'smtps://bob:S3cretPw@', /host/],
    ['JOT_REDIS_URL', 'redis://:S3cretPw@127.0.0.1:99999', /port from 1 to 65535/],
    ['JOT_DATABASE_URL', 'postgres://u:S3cretPw@127.0.0.1:99999/db', /port from 1 to 65535/],
    // ioredis reads the path as the database number.
    ['JOT_REDIS_URL', 'redis://:S3cretPw@127.0.0.1:6379/abc', /whose path, if any, is a database number/],
  ])('%s=%s exits 2 with the ConfigError naming it, without the password', async (name, url, why) => {
    const dir = tempDir();
    const r = await jot(['config', 'check'], { env: serverEnv(dir, { [name]: url }), cwd: dir });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(errorLine(r)).toMatch(new RegExp(`^jot: ERR_CONFIG_INVALID: ${name} is invalid: `));
    expect(errorLine(r)).toMatch(why);
    expect(r.stderr).not.toContain('S3cret');
  });

  // pg reads the certificate files when it connects: a missing one failed `jot serve` with a bare ENOENT and passed
  // the check. The check now refuses it, naming the parameter and the path; it still reads no file's contents.
  it.each(['sslrootcert', 'sslcert', 'sslkey'])(
    'JOT_DATABASE_URL naming a %s file that does not exist exits 2 naming the parameter and the path',
    async (parameter) => {
      const dir = tempDir();
      const url = `postgres://jot:S3cretPw@127.0.0.1:5432/jot?sslmode=verify-full&${parameter}=/nonexistent/ca.pem`;
      const r = await jot(['config', 'check'], { env: serverEnv(dir, { JOT_DATABASE_URL: url }), cwd: dir });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(errorLine(r)).toBe(
        `jot: ERR_CONFIG_INVALID: JOT_DATABASE_URL is invalid: its ${parameter} parameter names ` +
          '/nonexistent/ca.pem, which does not exist (ENOENT); pg reads that file when it connects: give the path ' +
          `of a readable file, or remove ${parameter}`,
      );
      expect(r.stderr).not.toContain('S3cret');
    },
  );

  it('passes a JOT_DATABASE_URL naming certificate files that exist', async () => {
    const dir = tempDir();
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    const url = `postgres://jot@127.0.0.1:5432/jot?sslmode=verify-full&sslrootcert=${ca}&sslcert=${ca}&sslkey=${ca}`;
    const r = await jot(['config', 'check', '--json'], {
      env: serverEnv(dir, { JOT_DATABASE_URL: url }),
      cwd: dir,
    });
    expect(r.stderr).not.toMatch(/ENOENT|JOT_DATABASE_URL/);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).databaseUrl).toContain(`sslrootcert=${ca}`);
  });

  // The server applies the password policy when it creates the bootstrap admin; the check warns of a password it
  // would refuse (not an error: an account that already exists is judged by its own password, not the policy).
  it('warns of a JOT_ADMIN_PASSWORD the password policy refuses, without printing it', async () => {
    const dir = tempDir();
    const env = serverEnv(dir, { JOT_ADMIN_EMAIL: 'ops@example.com', JOT_ADMIN_PASSWORD: 'password1' });
    const r = await jot(['config', 'check'], { env, cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /warning: JOT_ADMIN_PASSWORD is refused by the password policy \(.*commonly used/,
    );
    expect(r.stdout + r.stderr).not.toContain('password1');
    const good = await jot(['config', 'check'], {
      env: serverEnv(dir, {
        JOT_ADMIN_EMAIL: 'ops@example.com',
        JOT_ADMIN_PASSWORD: 'a long unusual passphrase 7',
      }),
      cwd: dir,
    });
    expect(good.code).toBe(0);
    expect(good.stderr).not.toContain('JOT_ADMIN_PASSWORD');
  });
});
