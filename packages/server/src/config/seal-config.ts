/**
 * The finished configuration: frozen all the way down, and shown by `JSON.stringify` (and so by pino) without its
 * secrets — the KEK, tokens and passwords redacted, credentials cut out of URLs.
 */
import type { Config } from './types.js';

function freeze<T>(value: T): T {
  if (Array.isArray(value)) value.forEach(freeze);
  else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value))
    Object.values(value).forEach(freeze);
  return ArrayBuffer.isView(value) ? value : Object.freeze(value);
}

/** Gives `config` a non-enumerable `toJSON` that redacts its secrets, then freezes it. */
export function sealConfig(config: Config): Config {
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
