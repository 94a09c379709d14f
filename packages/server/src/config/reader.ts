/**
 * Reading one setting: its raw value from the first source that has it (override, environment, config file,
 * default), parsed by a parser of `parsers.ts`; a bad value is a `ConfigError` naming the environment variable and
 * where the value came from (a secret's value is never shown).
 */
import { defaults, ENV_VARS, SECRET_SETTINGS } from './defaults.js';
import type { SettingKey, SettingValue, Settings } from './defaults.js';
import { ConfigError } from './errors.js';
import type { SettingSource } from './errors.js';
import * as p from './parsers.js';

/** A setting's value as found, and where. */
export interface Raw {
  value: SettingValue;
  source: SettingSource;
}

/** Parses a setting; the value is required (a default counts). */
export type Get = <T>(key: SettingKey, parse: (value: SettingValue) => T) => T;
/** Parses a setting, or undefined when it is unset everywhere. */
export type Read = <T>(key: SettingKey, parse: (value: SettingValue) => T) => T | undefined;

/** The reader `loadConfig` uses for every setting. */
export interface SettingsReader {
  readonly raw: (key: SettingKey) => Raw;
  readonly read: Read;
  readonly get: Get;
  /** Refuses a setting's value (`value` is shown unless the setting is secret). */
  readonly fail: (
    key: SettingKey,
    source: SettingSource | undefined,
    message: string,
    value?: SettingValue,
  ) => never;
  /** Refuses a setting that production requires and that is unset. */
  readonly missing: (key: SettingKey, why: string) => never;
  /** A required duration in milliseconds, at least `minMs` and at most `maxMs` (bare numbers are seconds). */
  readonly duration: (key: SettingKey, minMs: number, maxMs?: number) => number;
}

/** Builds the reader over the sources, highest priority first. */
export function createSettingsReader(sources: {
  overrides: Settings;
  env: Readonly<Record<string, string | undefined>>;
  fromFile: Settings;
  configFile: string | undefined;
}): SettingsReader {
  const { overrides, env, fromFile, configFile } = sources;

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

  const duration = (key: SettingKey, minMs: number, maxMs?: number): number =>
    get(key, (v) => p.durationMs(v, minMs, maxMs));

  return { raw, read, get, fail, missing, duration };
}
