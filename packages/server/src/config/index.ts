/** The configuration loader's public surface. */
export { loadConfig } from './load.js';
export type { LoadConfigOptions } from './load.js';
export { ConfigError } from './errors.js';
export type { SettingSource } from './errors.js';
export { defaults, ENV_VARS } from './defaults.js';
export type { SettingKey, SettingValue, Settings } from './defaults.js';
export type {
  Config,
  EmailVerification,
  LogLevel,
  MfaPolicy,
  NodeEnv,
  TheftResponse,
  TheftSignal,
  TokenDelivery,
  TokenMode,
} from './types.js';
