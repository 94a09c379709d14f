/**
 * The configuration loader: layering (defaults ← file ← env ← overrides), validation that names the
 * setting, production refusals, the development KEK, and docs/config.md kept in step with the defaults.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { defaults, ENV_VARS } from '../src/config/defaults.js';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/load.js';
import { redactUrl } from '../src/config/seal-config.js';
import type { LoadConfigOptions } from '../src/config/load.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jot-config-'));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const KEK_HEX = randomBytes(32).toString('hex');
const PROD = { NODE_ENV: 'production', JOT_ISSUER: 'https://auth.example.com', JOT_KEK: KEK_HEX };

/** Loads with an isolated cwd and no ambient config file or environment. */
function load(env: Record<string, string> = {}, options: Omit<LoadConfigOptions, 'env'> = {}) {
  return loadConfig({ cwd: tempDir(), file: false, ...options, env });
}

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults', () => {
  it('fills every setting with its documented default in development', () => {
    const config = load();
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      host: '127.0.0.1',
      issuer: 'http://localhost:3000',
      audience: ['http://localhost:3000'],
      signingAlg: 'RS256',
      accessTokenTtlMs: 15 * 60_000,
      refreshIdleTimeoutMs: 30 * 86_400_000,
      sessionMaxLifetimeMs: 90 * 86_400_000,
      sessionRetentionMs: 30 * 86_400_000,
      refreshGraceWindowMs: 10_000,
      tokenMode: 'refresh',
      clockToleranceMs: 5000,
      keyRotationIntervalMs: 30 * 86_400_000,
      keyPrepublishMs: 3_600_000,
      jwksMaxAgeMs: 600_000,
      revocationSecret: undefined,
      adminEmail: undefined,
      adminPassword: undefined,
      logLevel: 'info',
      trustProxy: false,
      bodyLimitBytes: 16 * 1024,
      rateLimitAuth: { max: 10, windowMs: 60_000 },
      corsOrigins: [],
      tokenDelivery: 'bearer',
      cookieSecure: 'auto',
      argon2MemoryKib: 19456,
      argon2TimeCost: 2,
      argon2Parallelism: 1,
      hashConcurrency: undefined,
      drainTimeoutMs: 5000,
      drainDelayMs: 0,
      configFile: undefined,
      kekGenerated: true,
    });
    expect(config.dataDir).toMatch(/[/\\]data$/);
    expect(config.databaseUrl).toBe(join(config.dataDir, 'jot.db'));
    expect(config.kek).toHaveLength(32);
  });

  it('returns a frozen object whose JSON form hides the secrets', () => {
    const config = load({
      JOT_REVOCATION_SECRET: 'r'.repeat(40),
      JOT_ADMIN_EMAIL: 'a@b.c',
      JOT_ADMIN_PASSWORD: 'hunter22!',
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.audience)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow(TypeError);
    const json = JSON.stringify(config);
    expect(json).not.toContain('r'.repeat(40));
    expect(json).not.toContain('hunter22!');
    expect(json).not.toContain(config.kek.toString('hex'));
    expect(JSON.parse(json)).toMatchObject({ port: 3000, kek: '[redacted]' });
  });

  it('binds to all interfaces in production', () => {
    expect(load(PROD)).toMatchObject({ nodeEnv: 'production', host: '0.0.0.0', kekGenerated: false });
  });

  it('delays the drain 5 s in production (behind a load balancer), not in development or test', () => {
    expect(load(PROD).drainDelayMs).toBe(5000);
    expect(load().drainDelayMs).toBe(0);
    expect(load({ NODE_ENV: 'test' }).drainDelayMs).toBe(0);
    expect(load({ ...PROD, JOT_DRAIN_DELAY: '0' }).drainDelayMs).toBe(0);
    expect(load({ JOT_DRAIN_DELAY: '1500ms' }).drainDelayMs).toBe(1500);
    expect(load({ JOT_DRAIN_DELAY: '15s' }).drainDelayMs).toBe(15_000);
    // A bare number is seconds, as for every duration.
    expect(load({ JOT_DRAIN_DELAY: '2' }).drainDelayMs).toBe(2000);
  });
});

describe('URL credentials in the JSON form of the config', () => {
  it('shows no part of a password: not after an "@" inside it, not in a password-like query parameter', () => {
    const config = load({
      JOT_DATABASE_URL: 'postgres://jot:p@ssword-SECRET@127.0.0.1:5432/jot?sslmode=require&PassWord=q-SECRET',
      JOT_REDIS_URL: 'redis://:p@ss-SECRET@127.0.0.1:6379/0',
      JOT_SMTP_URL: 'smtps://mailer:pa@ss-SECRET@mail.example.com:465?token=t-SECRET&pwd=x-SECRET',
    });
    const json = JSON.stringify(config);
    expect(json).not.toContain('SECRET');
    expect(JSON.parse(json)).toMatchObject({
      databaseUrl: 'postgres://127.0.0.1:5432/jot?sslmode=require',
      redisUrl: 'redis://127.0.0.1:6379/0',
      smtpUrl: 'smtps://mail.example.com:465',
    });
  });

  it('drops every password-like query parameter, whatever its case, and keeps the rest', () => {
    const url =
      'postgres://h/db?application_name=jot&password=1&PASS=2&pwd=3&Secret=4&token=5&key=6&sslkey=/k';
    expect(redactUrl(url)).toBe('postgres://h/db?application_name=jot&sslkey=/k');
  });

  it('falls back to the scheme and [redacted] for a URL it cannot parse', () => {
    expect(redactUrl('postgres://jot:se cret@[bad/db')).toBe('postgres://[redacted]');
    expect(redactUrl('redis:%zz:secret@')).toBe('redis://[redacted]');
  });

  it('shows a SQLite path (no scheme) as it is', () => {
    for (const path of ['/var/lib/jot/jot.db', 'C:\\jot\\jot.db', ':memory:'])
      expect(redactUrl(path)).toBe(path);
  });
});

describe('loadConfig layering', () => {
  it('lets environment variables override the defaults', () => {
    const config = load({
      JOT_PORT: '8080',
      JOT_ISSUER: 'https://id.example.com',
      JOT_AUDIENCE: 'api-a, api-b',
      JOT_ACCESS_TOKEN_TTL: '5m',
      JOT_TRUST_PROXY: '10.0.0.0/8,127.0.0.1',
      JOT_BODY_LIMIT: '1mb',
      JOT_RATE_LIMIT_AUTH: '100/15m',
      JOT_CORS_ORIGINS: 'https://app.example.com,http://localhost:5173',
      JOT_COOKIE_SECURE: 'false',
      JOT_SIGNING_ALG: 'ES256',
      JOT_DATABASE_URL: 'postgres://jot@db/jot',
      JOT_KEK: randomBytes(32).toString('base64url'),
    });
    expect(config).toMatchObject({
      port: 8080,
      issuer: 'https://id.example.com',
      audience: ['api-a', 'api-b'],
      accessTokenTtlMs: 300_000,
      trustProxy: ['10.0.0.0/8', '127.0.0.1'],
      bodyLimitBytes: 1024 * 1024,
      rateLimitAuth: { max: 100, windowMs: 900_000 },
      corsOrigins: ['https://app.example.com', 'http://localhost:5173'],
      cookieSecure: false,
      signingAlg: 'ES256',
      databaseUrl: 'postgres://jot@db/jot',
      kekGenerated: false,
    });
    expect(load({ JOT_TRUST_PROXY: '2' }).trustProxy).toBe(2);
    expect(load({ JOT_TRUST_PROXY: 'true' }).trustProxy).toBe(true);
    expect(load({}).databaseNamedStatements).toBe(true);
    expect(load({ JOT_DATABASE_NAMED_STATEMENTS: 'false' }).databaseNamedStatements).toBe(false);
  });

  it('reads the hashing concurrency (the CPUs a container may use), undefined meaning every core but one', () => {
    expect(load({ JOT_HASH_CONCURRENCY: '3' }).hashConcurrency).toBe(3);
    expect(load().hashConcurrency).toBeUndefined();
  });

  it('reads the file named by JOT_CONFIG, below the environment and above the defaults', () => {
    const dir = tempDir();
    const file = join(dir, 'custom.json');
    writeFileSync(
      file,
      JSON.stringify({
        port: 4000,
        tokenMode: 'single',
        logLevel: 'debug',
        corsOrigins: ['https://a.example'],
      }),
    );
    const config = loadConfig({ cwd: dir, env: { JOT_CONFIG: file, JOT_LOG_LEVEL: 'warn' } });
    expect(config).toMatchObject({
      port: 4000,
      tokenMode: 'single',
      logLevel: 'warn',
      corsOrigins: ['https://a.example'],
      configFile: file,
      issuer: 'http://localhost:4000',
    });
  });

  it('reads ./jot.config.json when present, and overrides beat everything', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 'jot.config.json'),
      JSON.stringify({ $schema: 'x', port: 4000, dataDir: 'state' }),
    );
    const config = loadConfig({ cwd: dir, env: { JOT_PORT: '5000' }, overrides: { port: 6000 } });
    expect(config.port).toBe(6000);
    expect(config.dataDir).toBe(join(dir, 'state'));
    expect(config.configFile).toBe(join(dir, 'jot.config.json'));
  });

  it('reads a duration exactly: a fraction of a larger unit, and milliseconds where a setting takes them', () => {
    const config = load({
      JOT_ACCESS_TOKEN_TTL: '1.5m',
      JOT_REDIS_TIMEOUT: '0.5s',
      JOT_CLUSTER_POLL_INTERVAL: '250ms',
      JOT_RATE_LIMIT_AUTH: '10/1500ms',
    });
    expect(config.accessTokenTtlMs).toBe(90_000);
    expect(config.redisTimeoutMs).toBe(500);
    expect(config.clusterPollIntervalMs).toBe(250);
    expect(config.rateLimitAuth).toEqual({ max: 10, windowMs: 1500 });
  });

  it('treats an empty environment variable as unset', () => {
    expect(load({ JOT_PORT: '' }).port).toBe(3000);
  });
});

describe('loadConfig validation', () => {
  it.each([
    ['JOT_PORT', 'abc', /JOT_PORT is invalid: expected an integer from 0 to 65535, got "abc"/],
    ['JOT_PORT', '70000', /JOT_PORT.*0 to 65535/],
    ['NODE_ENV', 'staging', /NODE_ENV.*development, production, test/],
    ['JOT_ISSUER', 'auth.example.com', /JOT_ISSUER.*absolute http\(s\) URL/],
    ['JOT_ISSUER', 'https://a.example/?x=1', /JOT_ISSUER.*without query/],
    ['JOT_SIGNING_ALG', 'none', /JOT_SIGNING_ALG.*RS256/],
    ['JOT_ACCESS_TOKEN_TTL', 'soon', /JOT_ACCESS_TOKEN_TTL.*duration/],
    ['JOT_ACCESS_TOKEN_TTL', '0', /JOT_ACCESS_TOKEN_TTL.*at least 1s/],
    [
      'JOT_DRAIN_DELAY',
      'a while',
      /JOT_DRAIN_DELAY is invalid: expected a duration such as "30s", .*, got "a while"/,
    ],
    ['JOT_DRAIN_DELAY', '-5s', /JOT_DRAIN_DELAY is invalid: expected a duration/],
    // A setting in whole seconds refuses a fraction rather than dropping it ('500ms' was read as 0).
    [
      'JOT_CLOCK_TOLERANCE',
      '500ms',
      /JOT_CLOCK_TOLERANCE is invalid: expected whole seconds .*write 0s or 1s/,
    ],
    [
      'JOT_ACCESS_TOKEN_TTL',
      '1.51m',
      /JOT_ACCESS_TOKEN_TTL is invalid: expected whole seconds .*write 90s or 91s/,
    ],
    [
      'JOT_ACCESS_TOKEN_TTL',
      '1500ms',
      /JOT_ACCESS_TOKEN_TTL is invalid: expected whole seconds .*write 1s or 2s/,
    ],
    ['JOT_RATE_LIMIT_AUTH', '10/500ms', /JOT_RATE_LIMIT_AUTH.*a window of at least 1s/],
    // Durations that run a timer: past ~24.8 days Node's timers fire at once (TimeoutOverflowWarning).
    ['JOT_DRAIN_DELAY', '25d', /JOT_DRAIN_DELAY is invalid: expected a duration of at most 24d/],
    ['JOT_DRAIN_TIMEOUT', '30d', /JOT_DRAIN_TIMEOUT is invalid: expected a duration of at most 24d/],
    ['JOT_KEEP_ALIVE_TIMEOUT', '25d', /JOT_KEEP_ALIVE_TIMEOUT.*at most 24d/],
    ['JOT_REQUEST_TIMEOUT', '25d', /JOT_REQUEST_TIMEOUT.*at most 24d/],
    ['JOT_HEADERS_TIMEOUT', '25d', /JOT_HEADERS_TIMEOUT.*at most 24d/],
    ['JOT_REDIS_TIMEOUT', '2073600001ms', /JOT_REDIS_TIMEOUT.*at most 24d/],
    ['JOT_CLUSTER_POLL_INTERVAL', '25d', /JOT_CLUSTER_POLL_INTERVAL.*at most 24d/],
    ['JOT_MAIL_RETRY_BASE', '25d', /JOT_MAIL_RETRY_BASE.*at most 24d/],
    ['JOT_TOKEN_MODE', 'double', /JOT_TOKEN_MODE.*refresh, single/],
    ['JOT_TOKEN_DELIVERY', 'pigeon', /JOT_TOKEN_DELIVERY.*bearer, cookie, memory/],
    ['JOT_TRUST_PROXY', 'maybe', /JOT_TRUST_PROXY.*hop count/],
    ['JOT_DATABASE_NAMED_STATEMENTS', 'sometimes', /JOT_DATABASE_NAMED_STATEMENTS/],
    ['JOT_BODY_LIMIT', 'huge', /JOT_BODY_LIMIT.*16kb/],
    ['JOT_RATE_LIMIT_AUTH', 'ten', /JOT_RATE_LIMIT_AUTH.*10\/min/],
    ['JOT_CORS_ORIGINS', 'https://a.example/', /JOT_CORS_ORIGINS.*no trailing slash/],
    ['JOT_CORS_ORIGINS', '*', /JOT_CORS_ORIGINS.*origins/],
    ['JOT_COOKIE_SECURE', 'sometimes', /JOT_COOKIE_SECURE.*true or false/],
    ['JOT_LOG_LEVEL', 'loud', /JOT_LOG_LEVEL.*info/],
    ['JOT_ARGON2_MEMORY_KIB', '12', /JOT_ARGON2_MEMORY_KIB.*1024/],
    ['JOT_ARGON2_TIME_COST', '0', /JOT_ARGON2_TIME_COST/],
    ['JOT_HASH_CONCURRENCY', '0', /JOT_HASH_CONCURRENCY.*1 to 256/],
    ['JOT_HASH_CONCURRENCY', 'all', /JOT_HASH_CONCURRENCY.*integer/],
    ['JOT_DATABASE_URL', 'mysql://x@y/z', /JOT_DATABASE_URL.*postgres:\/\//],
    // Malformed URLs with the right scheme: refused here, not at start with a bare ERR_INVALID_URL.
    [
      'JOT_SMTP_URL',
      'smtps://bob:S3cretPw@',
      /JOT_SMTP_URL is invalid: expected an smtp:\/\/ or smtps:\/\/ URL with a host/,
    ],
    ['JOT_SMTP_URL', 'smtp://u:pw@h:99999', /JOT_SMTP_URL is invalid: .*port from 1 to 65535/],
    ['JOT_SMTP_URL', 'smtp://u:pw@h:0', /JOT_SMTP_URL is invalid: .*port from 1 to 65535/],
    ['JOT_SMTP_URL', 'smtp://u:p#w@h', /JOT_SMTP_URL is invalid: .*percent-encode special characters/],
    ['JOT_REDIS_URL', 'redis://:pw@127.0.0.1:99999', /JOT_REDIS_URL is invalid: .*port from 1 to 65535/],
    [
      'JOT_REDIS_URL',
      'redis://:pw@',
      /JOT_REDIS_URL is invalid: expected a redis:\/\/ or rediss:\/\/ URL with a host/,
    ],
    ['JOT_REDIS_URL', 'redis://', /JOT_REDIS_URL is invalid: .*with a host/],
    ['JOT_REDIS_URL', 'redis://localhost/cache', /JOT_REDIS_URL is invalid: .*database number/],
    ['JOT_REDIS_NAMESPACE', 'jot:', /JOT_REDIS_NAMESPACE is invalid: .*without a trailing ":"/],
    ['JOT_REDIS_NAMESPACE', 'my app', /JOT_REDIS_NAMESPACE is invalid: expected 1–64 characters/],
    ['JOT_REDIS_NAMESPACE', 'app*', /JOT_REDIS_NAMESPACE is invalid: expected 1–64 characters/],
    ['JOT_REDIS_NAMESPACE', ':app', /JOT_REDIS_NAMESPACE is invalid: expected 1–64 characters/],
    ['JOT_REDIS_NAMESPACE', 'app:rev:jti', /JOT_REDIS_NAMESPACE is invalid: expected no ":rev" part/],
    ['JOT_REDIS_NAMESPACE', 'app:dpop', /JOT_REDIS_NAMESPACE is invalid: expected no ":dpop" part/],
    ['JOT_REDIS_NAMESPACE', 'a'.repeat(65), /JOT_REDIS_NAMESPACE is invalid: expected 1–64 characters/],
    [
      'JOT_DATABASE_URL',
      'postgres://u:pw@127.0.0.1:99999/db',
      /JOT_DATABASE_URL is invalid: .*port from 1 to 65535/,
    ],
    ['JOT_DATABASE_URL', 'postgres://u:pw@', /JOT_DATABASE_URL is invalid: .*with a host/],
    ['JOT_DATABASE_URL', 'postgres://h/db?port=x', /JOT_DATABASE_URL is invalid: .*port parameter/],
    // pg reads the last port parameter: 'x' here, which it cannot connect to (this was accepted when only the first
    // one was checked).
    ['JOT_DATABASE_URL', 'postgres://h/db?port=5432&port=x', /JOT_DATABASE_URL is invalid: .*port parameter/],
    [
      'JOT_DATABASE_URL',
      'postgres://u:pw@h/%ff',
      /JOT_DATABASE_URL is invalid: .*percent-escapes \(%XX\) decode/,
    ],
    // A port without a host names the missing host (these had only the general advice about percent-encoding).
    ['JOT_DATABASE_URL', 'postgres://u:pw@:5432/db', /JOT_DATABASE_URL is invalid: .*with a host/],
    ['JOT_REDIS_URL', 'redis://:6379', /JOT_REDIS_URL is invalid: .*with a host/],
    ['JOT_SMTP_URL', 'smtp://u@:25', /JOT_SMTP_URL is invalid: .*with a host/],
    ['JOT_KEY_PREPUBLISH', '5m', /JOT_KEY_PREPUBLISH.*at least JOT_JWKS_MAX_AGE/],
    ['JOT_KEY_ROTATION_INTERVAL', '30m', /JOT_KEY_ROTATION_INTERVAL.*longer than JOT_KEY_PREPUBLISH/],
  ])('rejects %s=%j naming the setting', (name, value, message) => {
    const err = errorOf(() => load({ [name]: value }));
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID', setting: name, source: 'env' });
    expect(err.message).toMatch(message);
  });

  it('never echoes a secret value in the message', () => {
    const kek = errorOf(() => load({ JOT_KEK: 'not-a-real-key-but-secret' }));
    expect(kek.setting).toBe('JOT_KEK');
    expect(kek.message).toMatch(/base64url.*hex/);
    expect(kek.message).not.toContain('not-a-real-key-but-secret');
    const secret = errorOf(() => load({ JOT_REVOCATION_SECRET: 'short-secret' }));
    expect(secret).toMatchObject({ setting: 'JOT_REVOCATION_SECRET' });
    expect(secret.message).not.toContain('short-secret');
    expect(errorOf(() => load({ JOT_KEK: randomBytes(16).toString('hex') })).setting).toBe('JOT_KEK');
  });

  it.each([
    ['JOT_SMTP_URL', 'smtps://bob:S3cretPw@'],
    ['JOT_SMTP_URL', 'smtp://bob:S3cretPw@h:99999'],
    ['JOT_SMTP_URL', 'smtp://bob:S3cret#Pw@h'],
    ['JOT_SMTP_URL', 'smtp://bob:S3cretPw@h:0'],
    ['JOT_REDIS_URL', 'redis://:S3cretPw@127.0.0.1:99999'],
    ['JOT_REDIS_URL', 'redis://:S3cretPw@'],
    ['JOT_DATABASE_URL', 'postgres://bob:S3cretPw@127.0.0.1:99999/db'],
    ['JOT_DATABASE_URL', 'postgresql://bob:S3cretPw@h/db?port=S3cretPw'],
    ['JOT_DATABASE_URL', 'postgres://bob:S3cretPw@h/db?port=1&port=S3cretPw'],
    ['JOT_DATABASE_URL', 'postgres://bob:S3cret#Pw@h/db'],
    ['JOT_DATABASE_URL', 'postgres://bob:S3cretPw%ff@h/db'],
    ['JOT_DATABASE_URL', 'postgres://bob:S3cretPw@:5432/db'],
  ])('never echoes the password of a malformed %s (%j)', (name, value) => {
    const err = errorOf(() => load({ [name]: value }));
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID', setting: name });
    expect(err.message.startsWith(name)).toBe(true);
    expect(err.message).not.toContain('S3cret');
  });

  it.each([
    ['JOT_SMTP_URL', 'smtp://localhost:1025', 'smtpUrl'],
    ['JOT_SMTP_URL', 'smtps://bob:p%40ss@mail.example.com:465?requireTLS=true', 'smtpUrl'],
    ['JOT_REDIS_URL', 'redis://:pw@127.0.0.1:6379/2', 'redisUrl'],
    ['JOT_REDIS_URL', 'rediss://redis.example.com', 'redisUrl'],
    ['JOT_REDIS_NAMESPACE', 'billing:eu-1', 'redisNamespace'],
    ['JOT_REDIS_NAMESPACE', 'a'.repeat(64), 'redisNamespace'],
    ['JOT_DATABASE_URL', 'postgres://u:pw@127.0.0.1:5432/db', 'databaseUrl'],
    ['JOT_DATABASE_URL', 'postgresql://u@/db?host=/run/postgresql', 'databaseUrl'],
    ['JOT_DATABASE_URL', 'postgres://u:p w@localhost/db', 'databaseUrl'],
    ['JOT_DATABASE_URL', 'postgres://u:pw@[::1]:5432/db', 'databaseUrl'],
    // As pg reads them (these were refused): an empty port parameter leaves the URL's port (or 5432); the last
    // port parameter is the one used, as it is over the URL's port; a user parameter replaces the URL's user name.
    ['JOT_DATABASE_URL', 'postgres://h/db?port=', 'databaseUrl'],
    ['JOT_DATABASE_URL', 'postgres://h/db?port=x&port=5432', 'databaseUrl'],
    ['JOT_DATABASE_URL', 'postgres://h:0/db?port=5432', 'databaseUrl'],
    ['JOT_DATABASE_URL', 'postgres://%ff@h/db?user=jot', 'databaseUrl'],
    // An empty certificate parameter names no file (pg skips it).
    ['JOT_DATABASE_URL', 'postgres://h/db?sslmode=require&sslrootcert=&sslcert=&sslkey=', 'databaseUrl'],
  ] as const)('accepts %s=%j', (name, value, key) => {
    expect(load({ [name]: value })[key]).toBe(value);
  });

  it('requires the bootstrap admin email and password together', () => {
    expect(errorOf(() => load({ JOT_ADMIN_EMAIL: 'admin@example.com' }))).toMatchObject({
      setting: 'JOT_ADMIN_PASSWORD',
    });
    expect(errorOf(() => load({ JOT_ADMIN_PASSWORD: 'long enough' }))).toMatchObject({
      setting: 'JOT_ADMIN_EMAIL',
    });
    expect(
      errorOf(() => load({ JOT_ADMIN_EMAIL: 'admin@example.com', JOT_ADMIN_PASSWORD: 'short' })).message,
    ).toMatch(/JOT_ADMIN_PASSWORD.*8 characters/);
    expect(load({ JOT_ADMIN_EMAIL: 'admin@example.com', JOT_ADMIN_PASSWORD: 'long enough' })).toMatchObject({
      adminEmail: 'admin@example.com',
      adminPassword: 'long enough',
    });
  });

  it('refuses a JOT_ADMIN_EMAIL no account can have (a malformed domain), saying why', () => {
    for (const email of ['admin@example.com/x', 'admin@example.com#x', 'admin@[::1]', 'admin@example..com']) {
      const err = errorOf(() => load({ JOT_ADMIN_EMAIL: email, JOT_ADMIN_PASSWORD: 'long enough' }));
      expect(err).toMatchObject({ setting: 'JOT_ADMIN_EMAIL' });
      expect(err.message).toMatch(/email domain .*; expected an address like name@example\.com/);
    }
    expect(
      load({ JOT_ADMIN_EMAIL: 'root@Bücher.example', JOT_ADMIN_PASSWORD: 'long enough' }).adminEmail,
    ).toBe('root@Bücher.example');
  });

  it('in single-token mode, refuses a renewal budget below one renewal per half token lifetime', () => {
    const single = { JOT_TOKEN_MODE: 'single', JOT_ACCESS_TOKEN_TTL: '10s' };
    const err = errorOf(() => load({ ...single, JOT_RATE_LIMIT_RENEW: '6/min' }));
    expect(err).toMatchObject({ setting: 'JOT_RATE_LIMIT_RENEW' });
    expect(err.message).toMatch(/every half JOT_ACCESS_TOKEN_TTL \(5s\).*at least 12 per window/);
    expect(load({ ...single, JOT_RATE_LIMIT_RENEW: '12/min' }).rateLimitRenew).toEqual({
      max: 12,
      windowMs: 60_000,
    });
    // The defaults fit (15-minute tokens, 6/min), and refresh mode does not renew at all.
    expect(load({ JOT_TOKEN_MODE: 'single' }).tokenMode).toBe('single');
    expect(load({ JOT_ACCESS_TOKEN_TTL: '10s', JOT_RATE_LIMIT_RENEW: '1/min' }).tokenMode).toBe('refresh');
  });

  it('keeps an ended session at least 2 days, and longer than an access token can outlive it', () => {
    expect(load({ JOT_SESSION_RETENTION: '2d' }).sessionRetentionMs).toBe(2 * 86_400_000);
    expect(errorOf(() => load({ JOT_SESSION_RETENTION: '1d' }))).toMatchObject({
      code: 'ERR_CONFIG_INVALID',
      setting: 'JOT_SESSION_RETENTION',
    });
    const err = errorOf(() => load({ JOT_SESSION_RETENTION: '3d', JOT_ACCESS_TOKEN_TTL: '3d' }));
    expect(err).toMatchObject({ setting: 'JOT_SESSION_RETENTION' });
    expect(err.message).toMatch(/longer than JOT_ACCESS_TOKEN_TTL plus JOT_CLOCK_TOLERANCE \(259205s\)/);
    expect(load({ JOT_SESSION_RETENTION: '4d', JOT_ACCESS_TOKEN_TTL: '3d' }).sessionRetentionMs).toBe(
      4 * 86_400_000,
    );
  });

  it('an unset retention follows a long access-token lifetime instead of refusing to start (upgrades keep working)', () => {
    // A deployment with 30-day access tokens that never heard of JOT_SESSION_RETENTION still starts after the upgrade.
    expect(load({ JOT_ACCESS_TOKEN_TTL: '30d' }).sessionRetentionMs).toBe(31 * 86_400_000 + 5_000);
    expect(load({ JOT_ACCESS_TOKEN_TTL: '1h' }).sessionRetentionMs).toBe(30 * 86_400_000);
    // Set explicitly, it is checked as given.
    expect(errorOf(() => load({ JOT_SESSION_RETENTION: '30d', JOT_ACCESS_TOKEN_TTL: '30d' }))).toMatchObject({
      setting: 'JOT_SESSION_RETENTION',
    });
  });

  it('reads the resource-server ceiling as a rate or off (the default)', () => {
    expect(load({}).rateLimitResourceServer).toBeUndefined();
    expect(load({ JOT_RATE_LIMIT_RESOURCE_SERVER: 'OFF' }).rateLimitResourceServer).toBeUndefined();
    expect(load({ JOT_RATE_LIMIT_RESOURCE_SERVER: '5000/s' }).rateLimitResourceServer).toEqual({
      max: 5000,
      windowMs: 1000,
    });
    expect(errorOf(() => load({ JOT_RATE_LIMIT_RESOURCE_SERVER: 'unlimited' }))).toMatchObject({
      setting: 'JOT_RATE_LIMIT_RESOURCE_SERVER',
    });
  });

  it('names the file key when the bad value comes from the config file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'jot.config.json'), JSON.stringify({ port: 'eighty' }));
    const err = errorOf(() => loadConfig({ cwd: dir, env: {} }));
    expect(err).toMatchObject({ setting: 'JOT_PORT', source: 'file' });
    expect(err.message).toContain(`JOT_PORT ("port" in ${join(dir, 'jot.config.json')}) is invalid`);
  });

  it('refuses unknown keys, bad JSON and a missing JOT_CONFIG file', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'typo.json'), JSON.stringify({ prot: 80 }));
    writeFileSync(join(dir, 'broken.json'), '{ port: ');
    expect(errorOf(() => loadConfig({ cwd: dir, env: { JOT_CONFIG: 'typo.json' } })).message).toMatch(
      /unknown setting "prot"/,
    );
    expect(errorOf(() => loadConfig({ cwd: dir, env: { JOT_CONFIG: 'broken.json' } })).setting).toBe(
      'JOT_CONFIG',
    );
    expect(errorOf(() => loadConfig({ cwd: dir, env: { JOT_CONFIG: 'nope.json' } })).message).toMatch(
      /does not exist/,
    );
  });
});

/**
 * The certificate files a `JOT_DATABASE_URL` names (`sslrootcert`, `sslcert`, `sslkey`) are read by pg when it
 * connects; a missing one made `jot-server` fail to start with pg's bare `ENOENT: no such file or directory, open …`
 * naming neither the variable nor the parameter. The configuration check now refuses it (ERR_CONFIG_INVALID naming
 * JOT_DATABASE_URL, the parameter and the path, never the password), looking at each file without reading it.
 */
describe('JOT_DATABASE_URL certificate files', () => {
  const PARAMETERS = ['sslrootcert', 'sslcert', 'sslkey'] as const;
  const url = (query: string): string => `postgres://jot:S3cretPw@db.example.com:5432/jot?${query}`;
  /** A directory holding one readable file, `ca.pem`. */
  function certificates(): { dir: string; ca: string } {
    const dir = tempDir();
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\n');
    return { dir, ca };
  }

  it.each(PARAMETERS)(
    'refuses a %s naming a file that does not exist, naming the parameter and the path, never the password',
    (parameter) => {
      const err = errorOf(() =>
        load({ JOT_DATABASE_URL: url(`sslmode=verify-full&${parameter}=/nope/ca.pem`) }),
      );
      expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID', setting: 'JOT_DATABASE_URL', source: 'env' });
      expect(err.message).toBe(
        `JOT_DATABASE_URL is invalid: its ${parameter} parameter names /nope/ca.pem, which does not exist ` +
          `(ENOENT); pg reads that file when it connects: give the path of a readable file, or remove ${parameter}`,
      );
      expect(err.message).not.toContain('S3cret');
    },
  );

  it('judges each parameter as pg reads it: percent-encoded names, and the last of repeated ones', () => {
    const { ca } = certificates();
    expect(errorOf(() => load({ JOT_DATABASE_URL: url('ssl%72ootcert=/nope/ca.pem') })).message).toContain(
      'its sslrootcert parameter names /nope/ca.pem',
    );
    expect(
      errorOf(() => load({ JOT_DATABASE_URL: url(`sslkey=${ca}&sslkey=/nope/k.pem`) })).message,
    ).toContain('its sslkey parameter names /nope/k.pem');
    const lastExists = url(`sslkey=/nope/k.pem&sslkey=${ca}`);
    expect(load({ JOT_DATABASE_URL: lastExists }).databaseUrl).toBe(lastExists);
  });

  it('refuses a directory in place of a certificate file', () => {
    const { dir } = certificates();
    const err = errorOf(() => load({ JOT_DATABASE_URL: url(`sslcert=${dir}`) }));
    expect(err.message).toContain(`its sslcert parameter names ${dir}, which is not a file`);
    expect(err.message).not.toContain('S3cret');
  });

  it.skipIf(process.getuid?.() === 0)('refuses a certificate file this process cannot read', () => {
    const { ca } = certificates();
    chmodSync(ca, 0o000);
    const err = errorOf(() => load({ JOT_DATABASE_URL: url(`sslkey=${ca}`) }));
    expect(err.message).toContain(
      `its sslkey parameter names ${ca}, which this process cannot read (EACCES)`,
    );
  });

  it('accepts readable files, a relative path against the working directory among them', () => {
    const { dir, ca } = certificates();
    const every = url(`sslmode=verify-full&sslrootcert=${ca}&sslcert=${ca}&sslkey=${ca}`);
    expect(load({ JOT_DATABASE_URL: every }).databaseUrl).toBe(every);
    const relative = url('sslrootcert=ca.pem');
    expect(load({ JOT_DATABASE_URL: relative }, { cwd: dir }).databaseUrl).toBe(relative);
    expect(errorOf(() => load({ JOT_DATABASE_URL: relative })).message).toContain(
      'its sslrootcert parameter names ca.pem, which does not exist',
    );
  });

  it('names where a value from the config file came from', () => {
    const dir = tempDir();
    const file = join(dir, 'jot.config.json');
    writeFileSync(file, JSON.stringify({ databaseUrl: url('sslrootcert=/nope/ca.pem') }));
    const err = errorOf(() => load({}, { file }));
    expect(err).toMatchObject({ setting: 'JOT_DATABASE_URL', source: 'file' });
    expect(err.message).toMatch(
      /^JOT_DATABASE_URL \("databaseUrl" in .*jot\.config\.json\) is invalid: its sslrootcert/,
    );
  });
});

describe('loadConfig in production', () => {
  it('refuses to start without JOT_ISSUER, naming it', () => {
    const err = errorOf(() => load({ ...PROD, JOT_ISSUER: '' }));
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID', setting: 'JOT_ISSUER' });
    expect(err.message).toMatch(/^JOT_ISSUER is required in production/);
  });

  it('refuses to start without JOT_KEK, naming it, and never generates one', () => {
    const cwd = tempDir();
    const err = errorOf(() => loadConfig({ cwd, file: false, env: { ...PROD, JOT_KEK: '' } }));
    expect(err).toMatchObject({ code: 'ERR_CONFIG_INVALID', setting: 'JOT_KEK' });
    expect(err.message).toMatch(/^JOT_KEK is required in production/);
    expect(() => statSync(join(cwd, 'data', 'dev-kek'))).toThrow();
  });
});

describe('development KEK', () => {
  it('is generated once into <dataDir>/dev-kek with mode 0600 and reused by the next load', () => {
    const dataDir = join(tempDir(), 'fresh', 'data');
    const first = load({ JOT_DATA_DIR: dataDir });
    expect(first.kekGenerated).toBe(true);
    const file = join(dataDir, 'dev-kek');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(file, 'utf8').trim(), 'base64url').equals(first.kek)).toBe(true);

    const second = load({ JOT_DATA_DIR: dataDir });
    expect(second.kekGenerated).toBe(true);
    expect(second.kek.equals(first.kek)).toBe(true);
  });

  it('reports a corrupt dev-kek file as a JOT_KEK problem', () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, 'dev-kek'), 'garbage');
    expect(errorOf(() => load({ JOT_DATA_DIR: dataDir })).message).toMatch(/JOT_KEK.*dev-kek is corrupt/);
  });
});

describe('docs/config.md', () => {
  it('documents every setting by environment variable and file key, and nothing else', () => {
    const doc = readFileSync(new URL('../../../docs/config.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*`([A-Za-z0-9]+)`\s*\|/gm)].map((m) => [
      m[1],
      m[2],
    ]);
    const expected = Object.entries(ENV_VARS).map(([key, env]) => [env, key]);
    expect(rows.sort()).toEqual(expected.sort());
    expect(Object.keys(defaults).sort()).toEqual(Object.keys(ENV_VARS).sort());
  });
});
