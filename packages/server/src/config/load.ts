/**
 * `loadConfig`: defaults ← config file ← environment ← overrides, every field validated, the result frozen.
 * A bad value fails here, once, with a ConfigError naming the environment variable and what it expects.
 */
import type { Buffer } from 'node:buffer';
import { resolve } from 'node:path';
import { isAlgorithm, SUPPORTED_ALGORITHMS } from '@jot/jose';
import type { Algorithm } from '@jot/jose';
import { parseDatabaseUrl } from '../store/database-url.js';
import { defaults, ENV_VARS, SECRET_SETTINGS } from './defaults.js';
import type { SettingKey, SettingValue, Settings } from './defaults.js';
import { ConfigError } from './errors.js';
import type { SettingSource } from './errors.js';
import { findConfigFile, readConfigFile } from './file.js';
import { checkOwnAudiences, dpopAlgorithms, encryptionKeys } from './dpop-jwe.js';
import { loadDevKek, parseKek, weakKek } from './kek.js';
import * as p from './parsers.js';
import type { Config, EmailVerification, LogLevel, NodeEnv, Registration } from './types.js';
import { loadSecuritySettings } from './security-settings.js';

/** Options of {@link loadConfig}. */
export interface LoadConfigOptions {
  /** Environment to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
  /** Config file path; `false` reads none. @default JOT_CONFIG, else ./jot.config.json if it exists */
  file?: string | false;
  /** Highest-priority settings, by config-file key (tests). */
  overrides?: Settings;
  /** Base for relative paths. @default process.cwd() */
  cwd?: string;
}

interface Raw {
  value: SettingValue;
  source: SettingSource;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function freeze<T>(value: T): T {
  if (Array.isArray(value)) value.forEach(freeze);
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value))
    Object.values(value).forEach(freeze);
  return ArrayBuffer.isView(value) ? value : Object.freeze(value);
}

/**
 * Loads and validates the configuration.
 *
 * @throws {ConfigError} `ERR_CONFIG_INVALID` naming the first bad setting by its environment variable.
 * @example
 * const config = loadConfig();
 * if (config.kekGenerated) log.warn('using a development KEK');
 */
export function loadConfig(options: LoadConfigOptions = {}): Config {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const configFile = findConfigFile(options.file, env.JOT_CONFIG, cwd);
  const fromFile = configFile === undefined ? {} : readConfigFile(configFile);
  const overrides = options.overrides ?? {};

  function raw(key: SettingKey): Raw {
    if (overrides[key] !== undefined) return { value: overrides[key], source: 'override' };
    const fromEnv = env[ENV_VARS[key]];
    if (fromEnv !== undefined && fromEnv.trim() !== '') return { value: fromEnv, source: 'env' };
    if (fromFile[key] !== undefined) return { value: fromFile[key], source: 'file' };
    return { value: defaults[key], source: 'default' };
  }

  function fail(
    key: SettingKey,
    source: SettingSource | undefined,
    message: string,
    value?: SettingValue,
  ): never {
    const where =
      source === 'file'
        ? ` ("${key}" in ${configFile})`
        : source === 'override'
          ? ` (override "${key}")`
          : '';
    const shown = value === undefined || SECRET_SETTINGS.has(key) ? '' : `, got ${JSON.stringify(value)}`;
    throw new ConfigError(ENV_VARS[key], `${ENV_VARS[key]}${where} is invalid: ${message}${shown}`, source);
  }

  /** Parses a setting, or returns undefined when it is unset (no value anywhere, default undefined). */
  function read<T>(key: SettingKey, parse: (value: SettingValue) => T): T | undefined {
    const { value, source } = raw(key);
    if (value === undefined) return undefined;
    try {
      return parse(value);
    } catch (err) {
      if (err instanceof p.Invalid) fail(key, source, err.message, value);
      throw err;
    }
  }
  function get<T>(key: SettingKey, parse: (value: SettingValue) => T): T {
    const value = read(key, parse);
    if (value === undefined) fail(key, undefined, 'a value is required');
    return value;
  }
  function missing(key: SettingKey, why: string): never {
    throw new ConfigError(ENV_VARS[key], `${ENV_VARS[key]} is required in production: ${why}`);
  }

  const nodeEnv = get<NodeEnv>('nodeEnv', (v) => p.oneOf(v, ['development', 'production', 'test']));
  const production = nodeEnv === 'production';
  const port = get('port', (v) => p.integer(v, 0, 65535));
  const dataDir = resolve(cwd, get('dataDir', p.string));
  const databaseUrl =
    read('databaseUrl', (v) => {
      try {
        const target = parseDatabaseUrl(p.string(v), dataDir, cwd);
        return target.dialect === 'postgres' ? target.connectionString : target.filename;
      } catch (err) {
        throw err instanceof TypeError
          ? new p.Invalid('expected postgres://…, a SQLite file path, or :memory:')
          : err;
      }
    }) ?? resolve(dataDir, 'jot.db');

  const issuer =
    read('issuer', p.httpUrl) ??
    (production
      ? missing('issuer', 'it is the "iss" of every token, e.g. https://auth.example.com')
      : `http://localhost:${port}`);
  const audience = read('audience', (v) => {
    const items = p.list(v);
    if (items.length === 0) throw new p.Invalid('expected one or more audience values, comma-separated');
    return items;
  }) ?? [issuer];

  let kek: Buffer | undefined = read('kek', parseKek);
  if (kek !== undefined && production && weakKek(kek)) {
    fail(
      'kek',
      raw('kek').source,
      'the key has too little entropy (all zeros, repeated or sequential bytes); use 32 random bytes (jot kek)',
    );
  }
  let kekGenerated = false;
  if (kek === undefined) {
    if (production) missing('kek', 'a 32-byte key (base64url or hex) that encrypts the signing keys at rest');
    try {
      kek = loadDevKek(dataDir);
    } catch (err) {
      if (err instanceof p.Invalid) fail('kek', undefined, err.message);
      throw err;
    }
    kekGenerated = true;
  }

  const duration = (key: SettingKey, minMs: number): number => get(key, (v) => p.durationMs(v, minMs));
  const keyPrepublishMs = duration('keyPrepublish', 0);
  const jwksMaxAgeMs = duration('jwksMaxAge', 0);
  if (keyPrepublishMs < jwksMaxAgeMs) {
    fail(
      'keyPrepublish',
      raw('keyPrepublish').source,
      `must be at least JOT_JWKS_MAX_AGE (${jwksMaxAgeMs / 1000}s) so caches learn a key before it signs`,
    );
  }
  const keyRotationIntervalMs = duration('keyRotationInterval', 60_000);
  if (keyRotationIntervalMs <= keyPrepublishMs) {
    fail('keyRotationInterval', raw('keyRotationInterval').source, 'must be longer than JOT_KEY_PREPUBLISH');
  }

  const requestTimeoutMs = duration('requestTimeout', 1000);
  const headersTimeoutMs = duration('headersTimeout', 1000);
  if (headersTimeoutMs > requestTimeoutMs) {
    fail('headersTimeout', raw('headersTimeout').source, 'must be at most JOT_REQUEST_TIMEOUT');
  }

  const adminEmail = read('adminEmail', (v) => {
    const s = p.string(v);
    if (!/^[^\s@]+@[^\s@]+$/.test(s)) throw new p.Invalid('expected an email address');
    return s;
  });
  const adminPassword = read('adminPassword', (v) => {
    const s = typeof v === 'string' ? v : '';
    if (s.length < 8) throw new p.Invalid('expected a password of at least 8 characters');
    return s;
  });
  if ((adminEmail === undefined) !== (adminPassword === undefined)) {
    const missing: SettingKey = adminEmail === undefined ? 'adminEmail' : 'adminPassword';
    fail(missing, undefined, 'JOT_ADMIN_EMAIL and JOT_ADMIN_PASSWORD must be set together');
  }

  const argon2Parallelism = get('argon2Parallelism', (v) => p.integer(v, 1, 255));
  const argon2MemoryKib = get('argon2MemoryKib', (v) => p.integer(v, 1024, 4_194_304));
  if (argon2MemoryKib < 8 * argon2Parallelism) {
    fail(
      'argon2MemoryKib',
      raw('argon2MemoryKib').source,
      'must be at least 8 × JOT_ARGON2_PARALLELISM (RFC 9106 §3.1)',
    );
  }

  /** Mail, links and the account lifecycle (issue 12). */
  function mailSettings() {
    const issuerHost = new URL(issuer).hostname;
    return {
      publicUrl: (read('publicUrl', p.httpUrl) ?? issuer).replace(/\/+$/, ''),
      smtpUrl: read('smtpUrl', (v) => {
        const s = p.string(v);
        if (!/^smtps?:\/\/[^\s]+$/.test(s)) throw new p.Invalid('expected an smtp:// or smtps:// URL');
        return s;
      }),
      mailFrom: read('mailFrom', p.string) ?? `Jot <no-reply@${issuerHost}>`,
      mailRetryBaseMs: duration('mailRetryBase', 1000),
      mailTemplatesDir: read('mailTemplatesDir', (v) => resolve(cwd, p.string(v))),
      emailVerification: get('emailVerification', (v): EmailVerification =>
        p.oneOf(v, ['off', 'optional', 'required']),
      ),
      registration:
        read('registration', (v): Registration => p.oneOf(v, ['open', 'invite', 'closed'])) ??
        (production ? 'closed' : 'open'),
      oneTimeTokenTtlMs: {
        passwordReset: duration('passwordResetTtl', 60_000),
        emailVerification: duration('emailVerificationTtl', 60_000),
        emailChange: duration('emailChangeTtl', 60_000),
        invitation: duration('invitationTtl', 60_000),
      },
      rateLimitMail: get('rateLimitMail', p.rate),
    };
  }

  const config: Config = {
    nodeEnv,
    port,
    host: read('host', p.string) ?? (production ? '0.0.0.0' : '127.0.0.1'),
    dataDir,
    databaseUrl,
    issuer,
    audience,
    kek,
    kekGenerated,
    signingAlg: get('signingAlg', (v): Algorithm => {
      const s = p.string(v);
      if (!isAlgorithm(s)) throw new p.Invalid(`expected one of ${SUPPORTED_ALGORITHMS.join(', ')}`);
      return s;
    }),
    accessTokenTtlMs: duration('accessTokenTtl', 1000),
    refreshIdleTimeoutMs: duration('refreshIdleTimeout', 1000),
    sessionMaxLifetimeMs: duration('sessionMaxLifetime', 1000),
    refreshGraceWindowMs: duration('refreshGraceWindow', 0),
    tokenMode: get('tokenMode', (v) => p.oneOf(v, ['refresh', 'single'])),
    clockToleranceMs: duration('clockTolerance', 0),
    keyRotationIntervalMs,
    keyPrepublishMs,
    jwksMaxAgeMs,
    stepUpMaxAgeMs: duration('stepUpMaxAge', 1000),
    roleScopes: get('roleScopes', p.roleScopes),
    clientAssertionMaxLifetimeMs: duration('clientAssertionMaxLifetime', 1000),
    exchangedTokenTtlMs: duration('exchangedTokenTtl', 1000),
    redisUrl: read('redisUrl', (v) => {
      const s = p.string(v);
      if (!/^rediss?:\/\/[^\s]+$/.test(s)) throw new p.Invalid('expected a redis:// or rediss:// URL');
      return s;
    }),
    redisTimeoutMs: get('redisTimeout', (v) => p.durationMsFine(v, 10)),
    clusterPollIntervalMs: get('clusterPollInterval', (v) => p.durationMsFine(v, 100)),
    revocationSecret: read('revocationSecret', (v) => {
      const s = typeof v === 'string' ? v : '';
      if (s.length < 32) throw new p.Invalid('expected a secret of at least 32 characters');
      return s;
    }),
    adminEmail,
    adminPassword,
    logLevel: get('logLevel', (v) => p.oneOf(v, LOG_LEVELS)),
    trustProxy: get('trustProxy', p.trustProxy),
    bodyLimitBytes: get('bodyLimit', p.bytes),
    requestTimeoutMs,
    headersTimeoutMs,
    keepAliveTimeoutMs: duration('keepAliveTimeout', 1000),
    drainTimeoutMs: duration('drainTimeout', 0),
    rateLimitAuth: get('rateLimitAuth', p.rate),
    corsOrigins: get('corsOrigins', (v) => p.list(v).map(p.origin)),
    tokenDelivery: get('tokenDelivery', (v) => p.oneOf(v, ['bearer', 'cookie', 'memory'])),
    cookieSecure: get('cookieSecure', (v) => (p.string(v).toLowerCase() === 'auto' ? 'auto' : p.boolean(v))),
    dpop: get('dpop', (v) => p.oneOf(v, ['optional', 'required'])),
    dpopNonce: get('dpopNonce', p.boolean),
    dpopProofMaxAgeMs: duration('dpopProofMaxAge', 1000),
    dpopAlgorithms: get('dpopAlgorithms', dpopAlgorithms),
    externalUrl: read('externalUrl', (v) => p.httpUrl(v).replace(/\/+$/, '')),
    encryptionKeys: read('encryptionKeys', (v) => encryptionKeys(v, cwd)) ?? {},
    loginLockout: (() => {
      const { max, windowMs } = get('loginLockout', p.rate);
      return {
        freeFailures: max,
        baseMs: windowMs,
        maxMs: Math.max(windowMs, duration('loginLockoutMax', 1000)),
      };
    })(),
    rateLimitRenew: get('rateLimitRenew', p.rate),
    metricsToken: read('metricsToken', (v) => {
      const s = typeof v === 'string' ? v : '';
      if (s.length < 32) throw new p.Invalid('expected a token of at least 32 characters');
      return s;
    }),
    argon2MemoryKib,
    argon2TimeCost: get('argon2TimeCost', (v) => p.integer(v, 1, 1000)),
    argon2Parallelism,
    ...mailSettings(),
    ...loadSecuritySettings(get, read, issuer),
    configFile,
  };
  const encryptionProblem = checkOwnAudiences(config.audience, config.encryptionKeys);
  if (encryptionProblem !== undefined)
    fail('encryptionKeys', raw('encryptionKeys').source, encryptionProblem);
  if (config.dpop === 'required' && config.tokenDelivery === 'cookie') {
    fail(
      'dpop',
      raw('dpop').source,
      'DPoP needs the access token in the page: JOT_TOKEN_DELIVERY must be memory or bearer',
    );
  }
  if (config.tokenMode === 'single') {
    // A client renews once per half lifetime: a budget below that signs every user out when a token expires.
    const needed = Math.ceil(config.rateLimitRenew.windowMs / (config.accessTokenTtlMs / 2));
    if (config.rateLimitRenew.max < needed) {
      fail(
        'rateLimitRenew',
        raw('rateLimitRenew').source,
        `in single-token mode clients renew every half JOT_ACCESS_TOKEN_TTL (${config.accessTokenTtlMs / 2000}s), ` +
          `so the per-session budget must allow at least ${needed} per window`,
        raw('rateLimitRenew').value,
      );
    }
  }
  // JSON.stringify (and so pino) of the config never shows the secrets.
  Object.defineProperty(config, 'toJSON', {
    enumerable: false,
    value: () => ({
      ...config,
      kek: '[redacted]',
      revocationSecret: config.revocationSecret && '[redacted]',
      redisUrl: config.redisUrl?.replace(/\/\/[^@/]*@/, '//[redacted]@'),
      adminPassword: config.adminPassword && '[redacted]',
      encryptionKeys: Object.fromEntries(
        Object.keys(config.encryptionKeys).map((aud) => [aud, '[redacted]']),
      ),
      metricsToken: config.metricsToken && '[redacted]',
      databaseUrl: config.databaseUrl.replace(/\/\/[^@/]*@/, '//[redacted]@'),
      smtpUrl: config.smtpUrl?.replace(/\/\/[^@/]*@/, '//[redacted]@'),
    }),
  });
  return freeze(config);
}
