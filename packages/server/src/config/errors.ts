/**
 * The configuration error: thrown once, at start, naming the setting (by its environment variable)
 * and what it expects, so a bad deployment fails before it serves a single request.
 */
import type { ConfigErrorCode } from '@jot/contract';

/** Where a setting's value came from. */
export type SettingSource = 'default' | 'file' | 'env' | 'override';

/** An invalid or missing setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly code: ConfigErrorCode = 'ERR_CONFIG_INVALID';
  /** The setting's environment variable, e.g. `JOT_PORT` (or `JOT_CONFIG` for the file itself). */
  readonly setting: string;
  /** Where the bad value came from, when there was one. */
  readonly source: SettingSource | undefined;

  constructor(setting: string, message: string, source?: SettingSource, options?: { cause?: unknown }) {
    super(message, options);
    this.setting = setting;
    this.source = source;
  }
}
