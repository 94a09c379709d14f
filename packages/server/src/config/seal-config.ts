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

/** Query parameters that carry a credential (compared case-insensitively): dropped from a shown URL. */
const SECRET_PARAMS = new Set(['password', 'pass', 'pwd', 'secret', 'token', 'key']);

/** Whether one raw `name=value` query pair names a credential. */
function isSecretParam(pair: string): boolean {
  const rawName = pair.split('=', 1)[0] ?? '';
  let name: string;
  try {
    name = decodeURIComponent(rawName.replace(/\+/g, ' '));
  } catch {
    return true; // a name that does not decode might be anything
  }
  return SECRET_PARAMS.has(name.trim().toLowerCase());
}

/**
 * A URL as it may be shown: user name and password blanked, password-like query parameters (`password`, `pass`,
 * `pwd`, `secret`, `token`, `key`, any case) dropped, the other parameters kept as written. Parsed as a WHATWG URL,
 * so a password holding `@` is cut out whole; a URL that does not parse is shown as its scheme and `[redacted]`,
 * and so is one without a `//` authority.
 * A value without a scheme (the SQLite file path `databaseUrl` may be) is shown as it is.
 */
export function redactUrl(value: string): string {
  // A scheme of two or more characters: not a file path (`/var/lib/jot.db`, `C:\jot.db`) or `:memory:`.
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(value)?.[1];
  if (scheme === undefined) return value;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return `${scheme}://[redacted]`;
  }
  // `redis:user:pw@host` parses with an opaque path, where no user or password can be blanked.
  if (!url.href.startsWith(`${url.protocol}//`)) return `${scheme}://[redacted]`;
  url.username = '';
  url.password = '';
  url.hash = '';
  const kept = url.search
    .slice(1)
    .split('&')
    .filter((pair) => pair !== '' && !isSecretParam(pair));
  url.search = kept.length === 0 ? '' : `?${kept.join('&')}`;
  return url.href;
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
      redisUrl: config.redisUrl && redactUrl(config.redisUrl),
      adminPassword: config.adminPassword && '[redacted]',
      encryptionKeys: Object.fromEntries(
        Object.keys(config.encryptionKeys).map((aud) => [aud, '[redacted]']),
      ),
      metricsToken: config.metricsToken && '[redacted]',
      databaseUrl: redactUrl(config.databaseUrl),
      smtpUrl: config.smtpUrl && redactUrl(config.smtpUrl),
    }),
  });
  return freeze(config);
}
