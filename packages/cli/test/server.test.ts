/** `jot config check` and `jot serve`: the server's configuration, redacted output, and a graceful shutdown. */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { describe, expect, it } from 'vitest';

import { errorLine, jot, serve, serverEnv, tempDir } from './support.js';

describe('jot config check', () => {
  it('prints the configuration with every secret redacted', async () => {
    const dir = tempDir();
    const kek = randomBytes(32).toString('base64url');
    const revocationSecret = 'r'.repeat(40);
    const env = serverEnv(dir, {
      JOT_KEK: kek,
      JOT_REVOCATION_SECRET: revocationSecret,
      JOT_ADMIN_EMAIL: 'root@example.com',
      JOT_ADMIN_PASSWORD: 'bootstrap-password',
      JOT_PORT: '8080',
    });
    const result = await jot(['config', 'check', '--json'], { env, cwd: dir });
    expect(result.code).toBe(0);
    const config = JSON.parse(result.stdout);
    expect(config).toMatchObject({
      port: 8080,
      issuer: 'http://jot.test',
      kek: '[redacted]',
      revocationSecret: '[redacted]',
      adminPassword: '[redacted]',
      kekGenerated: false,
    });
    for (const secret of [kek, revocationSecret, 'bootstrap-password'])
      expect(result.stdout).not.toContain(secret);
  });

  it('says where the configuration came from and warns about development settings', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'jot.config.json'), JSON.stringify({ port: 4000 }));
    const env = serverEnv(dir);
    const result = await jot(['config', 'check'], { env, cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      `Configuration is valid (from ${join(dir, 'jot.config.json')} and environment):`,
    );
    expect(result.stdout).toContain('"port": 4000');
    expect(result.stderr).toContain('warning: using the development KEK');
    expect(result.stderr).toContain('warning: NODE_ENV is test');
  });

  it('exits 2 with the ConfigError naming the bad variable', async () => {
    const dir = tempDir();
    const result = await jot(['config', 'check'], { env: serverEnv(dir, { JOT_PORT: 'eighty' }), cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(errorLine(result)).toBe(
      'jot: ERR_CONFIG_INVALID: JOT_PORT is invalid: expected an integer from 0 to 65535, got "eighty"',
    );
  });

  it('names the missing production setting, and never echoes a bad secret', async () => {
    const dir = tempDir();
    const production = await jot(['config', 'check'], {
      env: { NODE_ENV: 'production', JOT_DATA_DIR: dir },
      cwd: dir,
    });
    expect(errorLine(production)).toMatch(/^jot: ERR_CONFIG_INVALID: JOT_ISSUER is required in production/);
    const badKek = await jot(['config', 'check'], {
      env: serverEnv(dir, { JOT_KEK: 'too-short-kek-value' }),
      cwd: dir,
    });
    expect(errorLine(badKek)).toMatch(/^jot: ERR_CONFIG_INVALID: JOT_KEK is invalid: /);
    expect(badKek.stderr).not.toContain('too-short-kek-value');
  });
});

describe('jot serve', () => {
  it('serves until SIGTERM, then closes and exits 0', async () => {
    const dir = tempDir();
    const server = await serve(serverEnv(dir, { JOT_PORT: '0', JOT_LOG_LEVEL: 'info' }), dir);
    const { url, signals } = server;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(signals.listenerCount('SIGTERM')).toBe(1);
    const result = await server.stop();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('SIGTERM: shutting down');
    expect(signals.listenerCount('SIGINT') + signals.listenerCount('SIGTERM')).toBe(0);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow();
  });

  it('exits 2 on a bad configuration without starting', async () => {
    const dir = tempDir();
    const result = await jot(['serve'], { env: serverEnv(dir, { JOT_TOKEN_MODE: 'forever' }), cwd: dir });
    expect(result.code).toBe(2);
    expect(errorLine(result)).toMatch(/^jot: ERR_CONFIG_INVALID: JOT_TOKEN_MODE is invalid: /);
  });
});
