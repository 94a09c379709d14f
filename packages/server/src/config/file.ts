/**
 * The optional JSON configuration file: its path comes from `JOT_CONFIG`, else `./jot.config.json`
 * when it exists. Keys are those of the defaults object; an unknown key is an error (a typo must not
 * silently fall back to a default).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { defaults } from './defaults.js';
import type { SettingKey, SettingValue, Settings } from './defaults.js';
import { ConfigError } from './errors.js';

/** Default file name, looked up in the working directory. */
export const DEFAULT_CONFIG_FILE = 'jot.config.json';

function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(defaults, key);
}

function isSettingValue(value: unknown): value is SettingValue {
  return (
    ['string', 'number', 'boolean'].includes(typeof value) ||
    (Array.isArray(value) && value.every((v) => typeof v === 'string'))
  );
}

/**
 * Which file to read: `explicit` (a path, or false for none), else `JOT_CONFIG`, else `./jot.config.json`
 * if present. An explicitly named file that does not exist is an error.
 */
export function findConfigFile(
  explicit: string | false | undefined,
  envPath: string | undefined,
  cwd: string,
): string | undefined {
  if (explicit === false) return undefined;
  const named = explicit ?? (envPath?.trim() || undefined);
  if (named !== undefined) {
    const path = resolve(cwd, named);
    if (!existsSync(path))
      throw new ConfigError('JOT_CONFIG', `JOT_CONFIG: config file ${path} does not exist`, 'env');
    return path;
  }
  const fallback = resolve(cwd, DEFAULT_CONFIG_FILE);
  return existsSync(fallback) ? fallback : undefined;
}

/** Reads and checks the file; `null` values count as unset. */
export function readConfigFile(path: string): Settings {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new ConfigError('JOT_CONFIG', `JOT_CONFIG: ${path} is not readable JSON`, 'file', { cause });
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new ConfigError('JOT_CONFIG', `JOT_CONFIG: ${path} must contain a JSON object of settings`, 'file');
  }
  const settings: Settings = {};
  for (const [key, value] of Object.entries(data)) {
    if (key === '$schema' || value === null) continue;
    if (!isSettingKey(key)) {
      throw new ConfigError(
        'JOT_CONFIG',
        `JOT_CONFIG: unknown setting "${key}" in ${path} (see docs/config.md)`,
        'file',
      );
    }
    if (!isSettingValue(value)) {
      throw new ConfigError(
        'JOT_CONFIG',
        `JOT_CONFIG: "${key}" in ${path} must be a string, number, boolean or string array`,
        'file',
      );
    }
    settings[key] = value;
  }
  return settings;
}
