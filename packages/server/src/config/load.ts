/**
 * `loadConfig`: defaults ← config file ← environment ← overrides, every field validated, the result frozen.
 * A bad value fails here, once, with a ConfigError naming the environment variable and what it expects.
 *
 * Each area has its reader (`read-*.ts`, `security-settings.ts`); they run in a fixed order, so with several bad
 * settings the same one is reported first every time. The defaults are one object, in `defaults.ts`.
 */
import { checkCombinations } from './check-combinations.js';
import type { Settings } from './defaults.js';
import { findConfigFile, readConfigFile } from './file.js';
import { readBootstrapAdmin } from './read-admin.js';
import { readBasics } from './read-basics.js';
import { readClusterSettings } from './read-cluster.js';
import { readDPoPSettings } from './read-dpop.js';
import { readHttpSettings, readTimeouts } from './read-http.js';
import { readKek } from './read-kek.js';
import { readArgon2Memory, readLoginLimits } from './read-limits.js';
import { readMailSettings } from './read-mail.js';
import { readKeySchedule, readTokenSettings } from './read-tokens.js';
import { createSettingsReader } from './reader.js';
import * as p from './parsers.js';
import { sealConfig } from './seal-config.js';
import { loadSecuritySettings } from './security-settings.js';
import type { Config } from './types.js';

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
  const { read, get } = reader;

  // The settings others depend on or are checked against, in the order they are validated.
  const { production, ...basics } = readBasics(reader, cwd);
  const { kek, kekGenerated } = readKek(reader, production, basics.dataDir);
  const schedule = readKeySchedule(reader);
  const timeouts = readTimeouts(reader);
  const { adminEmail, adminPassword } = readBootstrapAdmin(reader);
  const argon2 = readArgon2Memory(reader);

  const config: Config = {
    nodeEnv: basics.nodeEnv,
    port: basics.port,
    host: read('host', p.string) ?? (production ? '0.0.0.0' : '127.0.0.1'),
    dataDir: basics.dataDir,
    databaseUrl: basics.databaseUrl,
    databaseNamedStatements: basics.databaseNamedStatements,
    issuer: basics.issuer,
    audience: basics.audience,
    kek,
    kekGenerated,
    ...readTokenSettings(reader, schedule),
    ...readClusterSettings(reader),
    adminEmail,
    adminPassword,
    ...readHttpSettings(reader, timeouts, production),
    ...readDPoPSettings(reader, cwd),
    ...readLoginLimits(reader),
    metricsToken: read('metricsToken', (v) => {
      const s = typeof v === 'string' ? v : '';
      if (s.length < 32) throw new p.Invalid('expected a token of at least 32 characters');
      return s;
    }),
    argon2MemoryKib: argon2.argon2MemoryKib,
    argon2TimeCost: get('argon2TimeCost', (v) => p.integer(v, 1, 1000)),
    argon2Parallelism: argon2.argon2Parallelism,
    hashConcurrency: read('hashConcurrency', (v) => p.integer(v, 1, 256)),
    ...readMailSettings(reader, { issuer: basics.issuer, production, cwd }),
    ...loadSecuritySettings(get, read, basics.issuer, (key) => reader.raw(key).source !== 'default'),
    configFile,
  };
  checkCombinations(config, reader);
  return sealConfig(config);
}
