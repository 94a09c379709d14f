/**
 * Value parsers for settings. Each takes the raw value (a string from the environment, or any JSON
 * value from the file) and returns the typed value or throws an {@link Invalid} saying what is expected;
 * the loader turns that into a ConfigError naming the setting.
 */
import { parseDurationMs } from '@jot/jose';
import { parse as parseConnectionString } from 'pg-connection-string';

/** "Expected …" text for a rejected value; the loader adds the setting's name. */
export class Invalid extends Error {}

function text(value: unknown): string {
  if (typeof value === 'string') return value.trim();
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new Invalid('expected a string');
}

/** A non-empty string. */
export function string(value: unknown): string {
  const s = text(value);
  if (s === '') throw new Invalid('expected a non-empty value');
  return s;
}

/** An integer in [min, max], given as a number or a decimal string. */
export function integer(value: unknown, min: number, max: number): number {
  const s = text(value);
  const n = /^-?\d+$/.test(s) ? Number(s) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw new Invalid(`expected an integer from ${min} to ${max}`);
  return n;
}

/** One of `choices`. */
export function oneOf<T extends string>(value: unknown, choices: readonly T[]): T {
  const s = text(value);
  const found = choices.find((c) => c === s);
  if (found === undefined) throw new Invalid(`expected one of ${choices.join(', ')}`);
  return found;
}

/** true/false (also 1/0, yes/no, on/off). */
export function boolean(value: unknown): boolean {
  const s = text(value).toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw new Invalid('expected true or false');
}

/** A comma-separated list (or a JSON array of strings); empty entries dropped. */
export function list(value: unknown): string[] {
  const items = Array.isArray(value) ? value.map((v) => text(v)) : text(value).split(',');
  return items.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The longest duration a setting that runs a timer (a timeout, a delay, a poll interval) may take: Node's timers
 * hold at most 2^31 - 1 ms (~24.8 days) and fire at once past it (TimeoutOverflowWarning).
 */
export const TIMER_MAX_MS = 24 * 86_400_000;

/** The duration in whole milliseconds, or the parsers' one message. */
function exactMs(value: unknown): number {
  try {
    return parseDurationMs(typeof value === 'number' ? value : text(value));
  } catch {
    throw new Invalid('expected a duration such as "30s", "15m", "12h", "30d", or a number of seconds');
  }
}

/**
 * A duration ("15m", "30d", seconds) in milliseconds, at least `minMs` and at most `maxMs`, in whole seconds: these
 * settings work in seconds (token lifetimes are `exp` seconds), and a fraction refused is better than one dropped
 * without a word (`500ms` used to become 0).
 */
export function durationMs(value: unknown, minMs = 0, maxMs = Infinity): number {
  const ms = exactMs(value);
  if (ms % 1000 !== 0) {
    const down = Math.floor(ms / 1000);
    throw new Invalid(
      `expected whole seconds (this setting has no finer precision): write ${down}s or ${down + 1}s`,
    );
  }
  if (ms < minMs) throw new Invalid(`expected a duration of at least ${minMs / 1000}s`);
  return atMost(ms, maxMs);
}

function atMost(ms: number, maxMs: number): number {
  if (ms <= maxMs) return ms;
  const max = maxMs % 86_400_000 === 0 ? `${maxMs / 86_400_000}d` : `${maxMs} ms`;
  throw new Invalid(`expected a duration of at most ${max}`);
}

/** A duration to the millisecond ("150ms", "0.5s") in the units `durationMs` takes, at least `minMs` and at most `maxMs`. */
export function durationMsFine(value: unknown, minMs = 0, maxMs = Infinity): number {
  const ms = exactMs(value);
  if (ms < minMs) throw new Invalid(`expected a duration of at least ${minMs} ms`);
  return atMost(ms, maxMs);
}

const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1],
  ['b', 1],
  ['kb', 1024],
  ['k', 1024],
  ['mb', 1024 * 1024],
  ['m', 1024 * 1024],
]);

/** A size in bytes: a number, or `<n><unit>` with unit b, kb, mb (powers of 1024). */
export function bytes(value: unknown): number {
  const match = /^(\d+)\s*([a-z]*)$/.exec(text(value).toLowerCase());
  const unit = match ? SIZE_UNITS.get(match[2] ?? '') : undefined;
  const n = match && unit !== undefined ? Number(match[1]) * unit : Number.NaN;
  if (!Number.isSafeInteger(n) || n < 1)
    throw new Invalid('expected a size such as "16kb", "1mb" or a number of bytes');
  return n;
}

/** A rate `<max>/<window>`: `10/min`, `100/15m`, `5/s`. */
export function rate(value: unknown): { max: number; windowMs: number } {
  const match = /^(\d+)\s*\/\s*(\d*)\s*([a-z]+)$/.exec(text(value).toLowerCase());
  const expected = 'expected "<max>/<window>", e.g. "10/min" or "100/15m"';
  if (!match) throw new Invalid(expected);
  const max = Number(match[1]);
  let windowMs: number;
  try {
    windowMs = parseDurationMs(`${match[2] || '1'}${match[3]}`);
  } catch {
    throw new Invalid(expected);
  }
  if (max < 1 || windowMs < 1000) throw new Invalid(`${expected}, with max ≥ 1 and a window of at least 1s`);
  return { max, windowMs };
}

/** A rate as `rate` reads it, or `off` for none. */
export function rateOrOff(value: unknown): { max: number; windowMs: number } | undefined {
  return text(value).trim().toLowerCase() === 'off' ? undefined : rate(value);
}

/** An absolute http(s) URL without query or fragment (OpenID Connect Discovery §3 for issuers). */
export function httpUrl(value: unknown): string {
  const s = string(value);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Invalid('expected an absolute http(s) URL');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.search !== '' || url.hash !== '') {
    throw new Invalid('expected an absolute http(s) URL without query or fragment');
  }
  return s;
}

/** An origin exactly as browsers send it: `scheme://host[:port]`, no path. */
export function origin(value: string): string {
  let parsed: string;
  try {
    parsed = new URL(value).origin;
  } catch {
    parsed = 'null';
  }
  if (parsed === 'null' || parsed !== value) {
    throw new Invalid(`expected origins like "https://app.example.com" (no path, no trailing slash, no "*")`);
  }
  return value;
}

/** Fastify's trustProxy: true/false, a hop count, or a list of addresses/CIDRs. */
export function trustProxy(value: unknown): boolean | number | string[] {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return integer(value, 0, 1000);
  if (Array.isArray(value)) return list(value);
  const s = text(value);
  if (/^(true|false)$/i.test(s)) return s.toLowerCase() === 'true';
  if (/^\d+$/.test(s)) return integer(s, 0, 1000);
  const items = list(s);
  // proxy-addr also knows the names loopback, linklocal and uniquelocal.
  if (
    items.length === 0 ||
    items.some((i) => !/^([0-9a-f:.]+(\/\d{1,3})?|loopback|linklocal|uniquelocal)$/i.test(i))
  ) {
    throw new Invalid('expected true, false, a hop count, or a comma list of IP addresses/CIDRs');
  }
  return items;
}

/** An RFC 6749 §3.3 scope-token: printable ASCII without space, `"` or `\`. */
export const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]+$/;

/** `<role>=<scope> <scope>, <role>=…` (role `*` = every user) → role → scopes; `none` for no scopes at all. */
export function roleScopes(value: unknown): Map<string, string[]> {
  const map = new Map<string, string[]>();
  if (typeof value === 'string' && value.trim() === 'none') return map;
  for (const pair of list(value)) {
    const at = pair.indexOf('=');
    const role = at < 0 ? '' : pair.slice(0, at).trim();
    const scopes =
      at < 0
        ? []
        : pair
            .slice(at + 1)
            .trim()
            .split(/\s+/)
            .filter(Boolean);
    if (role === '' || /\s/.test(role) || !scopes.every((s) => SCOPE_TOKEN.test(s))) {
      throw new Invalid('expected <role>=<scope> <scope>, comma-separated (role * means every user)');
    }
    map.set(role, [...new Set([...(map.get(role) ?? []), ...scopes])]);
  }
  return map;
}

/**
 * Why a `scheme://…` value did not parse as a WHATWG URL, without echoing any part of it (these URLs carry
 * passwords): a missing host, a port out of range, or else the general advice. `what` names the URL, as its caller
 * words it ("a redis:// or rediss:// URL").
 */
function urlProblem(s: string, what: string): string {
  // The host and port follow the authority's last `@`; the authority ends at the first `/`, `?` or `#`. The port
  // follows the last `:` outside an IPv6 `[…]` (the only failing port of digits is one past 65535).
  const hostPort = (s.slice(s.indexOf('//') + 2).split(/[/?#]/, 1)[0] ?? '').split('@').at(-1) ?? '';
  if (hostPort === '' || hostPort.startsWith(':')) return `expected ${what} with a host (e.g. …@localhost)`;
  const port = /^[^[]*:(\d+)$/.exec(hostPort.slice(hostPort.lastIndexOf(']') + 1))?.[1];
  if (Number(port) > 65535) return `expected ${what} with a port from 1 to 65535`;
  return `expected ${what} (this value does not parse as a URL: percent-encode special characters such as @ : / # ? in the user name and password)`;
}

/**
 * A `scheme://` URL with one of `schemes` (without the colon), parsed as a WHATWG URL, with a host and a port, when
 * given, from 1 to 65535. `what` names it in messages ("an smtp:// or smtps:// URL"), which never echo the value (it
 * may carry a password).
 */
function serviceUrl(value: unknown, schemes: readonly string[], what: string): URL {
  const s = string(value);
  if (!schemes.some((x) => s.toLowerCase().startsWith(`${x}://`))) throw new Invalid(`expected ${what}`);
  let url: URL;
  try {
    url = new URL(s);
  } catch {
    throw new Invalid(urlProblem(s, what));
  }
  if (url.hostname === '') throw new Invalid(`expected ${what} with a host (e.g. …@localhost)`);
  if (url.port === '0') throw new Invalid(`expected ${what} with a port from 1 to 65535`);
  return url;
}

/** An `smtp://` or `smtps://` URL with a host (and a port from 1 to 65535 if given), as nodemailer takes it. */
export function smtpUrl(value: unknown): string {
  serviceUrl(value, ['smtp', 'smtps'], 'an smtp:// or smtps:// URL');
  return string(value);
}

/**
 * A `redis://` or `rediss://` URL with a host (and a port from 1 to 65535 if given), as ioredis takes it; the path,
 * if any, is the database number.
 */
export function redisUrl(value: unknown): string {
  const what = 'a redis:// or rediss:// URL';
  const url = serviceUrl(value, ['redis', 'rediss'], what);
  if (!/^\/?\d*$/.test(url.pathname)) {
    throw new Invalid(`expected ${what} whose path, if any, is a database number (e.g. /0)`);
  }
  return string(value);
}

/**
 * Empties, for parsing only, the query parameters that make pg-connection-string's `parse` read files (`sslcert`,
 * `sslkey`, `sslrootcert`: pg reads them when it connects) or print a warning (some `sslmode`s): parsing reads no
 * file (the loader checks that those files exist and are readable, `postgresFiles`, without reading them). Appended
 * last they override earlier ones, in any spelling the query decodes to; the query ends at the first `#`.
 */
function withoutSideEffects(s: string): string {
  const hash = s.indexOf('#');
  const end = hash < 0 ? s.length : hash;
  const sep = s.slice(0, end).includes('?') ? '&' : '?';
  return `${s.slice(0, end)}${sep}sslcert=&sslkey=&sslrootcert=&sslmode=${s.slice(end)}`;
}

/**
 * A `postgres://` or `postgresql://` connection string as pg reads it, by pg's own parser (pg-connection-string):
 * the host optional (`postgres://u@/db?host=/run/postgresql`, or libpq's default), the port in effect (a `port`
 * parameter, else the URL's) from 1 to 65535, and percent-escapes that decode.
 */
export function postgresUrl(value: unknown): string {
  const s = string(value);
  const what = 'a postgres:// or postgresql:// URL';
  if (!/^postgres(ql)?:\/\//i.test(s)) throw new Invalid(`expected ${what}`);
  let port: unknown;
  try {
    ({ port } = parseConnectionString(withoutSideEffects(s)));
  } catch (err) {
    // A URIError from decoding a percent-escape; else the URL did not parse. pg's own message is never shown.
    throw new Invalid(
      err instanceof URIError ? `expected ${what} whose percent-escapes (%XX) decode` : urlProblem(s, what),
    );
  }
  if (!(port === '' || (typeof port === 'string' && /^\d+$/.test(port) && +port >= 1 && +port <= 65535))) {
    throw new Invalid(`expected ${what} whose port, or port parameter, is from 1 to 65535`);
  }
  return s;
}

/** The query parameters of a Postgres URL whose values pg reads as file paths when it connects. */
const POSTGRES_FILE_PARAMETERS = ['sslrootcert', 'sslcert', 'sslkey'] as const;

/**
 * The files a `postgres://` URL that `postgresUrl` accepted names for pg to read when it connects, as
 * pg-connection-string's `parse` reads its query (which it cannot be asked for without reading the files): after its
 * preparation of the string (spaces and stray `%` encoded, an empty host retried), the last value of each of
 * `sslrootcert`, `sslcert` and `sslkey`, in any spelling that decodes to it; an empty value names no file.
 */
export function postgresFiles(s: string): Array<{ parameter: string; path: string }> {
  const prepared = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(s) ? encodeURI(s).replace(/%25(\d\d)/g, '%$1') : s;
  let query: URLSearchParams;
  try {
    query = new URL(prepared, 'postgres://base').searchParams;
  } catch {
    query = new URL(prepared.replace('@/', '@___DUMMY___/'), 'postgres://base').searchParams;
  }
  return POSTGRES_FILE_PARAMETERS.flatMap((parameter) => {
    const path = query.getAll(parameter).at(-1);
    return path === undefined || path === '' ? [] : [{ parameter, path }];
  });
}
