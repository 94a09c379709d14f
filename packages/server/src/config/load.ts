/**
 * `loadConfig`: defaults ← config file ← environment ← overrides, every field validated, the result frozen.
 * A bad value fails here, once, with a ConfigError naming the environment variable and what it expects.
 */
import type { Buffer } from 'node:buffer';
import { resolve } from 'node:path';
import { isAlgorithm, SUPPORTED_ALGORITHMS } from '@jot/jose';
import type { Algorithm } from '@jot/jose';
import { parseDatabaseUrl } from '../store/database-url.js';
import type { SettingKey, Settings } from './defaults.js';
import { findConfigFile, readConfigFile } from './file.js';
import { createSettingsReader, type SettingsReader } from './reader.js';
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

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function freeze<T>(value: T): T {
  if (Array.isArray(value)) value.forEach(freeze);
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value))
    Object.values(value).forEach(freeze);
  return ArrayBuffer.isView(value) ? value : Object.freeze(value);
}

/** The key-encryption key: configured (and, in production, strong), or a development key kept in `dataDir`. */
function readKek(
  { read, raw, fail, missing }: SettingsReader,
  production: boolean,
  dataDir: string,
): { kek: Buffer; kekGenerated: boolean } {
  const kek = read('kek', parseKek);
  if (kek !== undefined) {
    if (production && weakKek(kek)) {
      fail(
        'kek',
        raw('kek').source,
        'the key has too little entropy (all zeros, repeated or sequential bytes); use 32 random bytes (jot kek)',
      );
    }
    return { kek, kekGenerated: false };
  }
  if (production) missing('kek', 'a 32-byte key (base64url or hex) that encrypts the signing keys at rest');
  try {
    return { kek: loadDevKek(dataDir), kekGenerated: true };
  } catch (err) {
    if (err instanceof p.Invalid) fail('kek', undefined, err.message);
    throw err;
  }
}

/** The bootstrap admin's email and password: both or neither. */
function readBootstrapAdmin({ read, fail }: SettingsReader): {
  adminEmail: string | undefined;
  adminPassword: string | undefined;
} {
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
    const unset: SettingKey = adminEmail === undefined ? 'adminEmail' : 'adminPassword';
    fail(unset, undefined, 'JOT_ADMIN_EMAIL and JOT_ADMIN_PASSWORD must be set together');
  }
  return { adminEmail, adminPassword };
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

  const reader = createSettingsReader({ overrides: options.overrides ?? {}, env, fromFile, configFile });
  const { raw, read, get, fail, missing } = reader;

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

  const { kek, kekGenerated } = readKek(reader, production, dataDir);

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

  const { adminEmail, adminPassword } = readBootstrapAdmin(reader);

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
