/** Human formatting of times (JWT NumericDate seconds and ISO strings), absolute and relative. */

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400],
  ['hour', 3_600],
  ['minute', 60],
  ['second', 1],
];

/** "in 5 minutes", "3 hours ago" for a time in epoch ms. */
export function fromNow(ms: number, now = Date.now()): string {
  const seconds = Math.round((ms - now) / 1000);
  for (const [unit, size] of UNITS) {
    if (Math.abs(seconds) >= size || unit === 'second')
      return relative.format(Math.trunc(seconds / size), unit);
  }
  return '';
}

/** A local date and time with the relative distance, e.g. "24/11/2025, 17:44:00 (in 15 minutes)". */
export function formatTime(ms: number, now = Date.now()): string {
  return `${new Date(ms).toLocaleString()} (${fromNow(ms, now)})`;
}

/** Claims whose value is a NumericDate (RFC 7519 §2) or a Jot time. */
export const TIME_CLAIMS = new Set(['exp', 'iat', 'nbf', 'auth_time', 'updated_at']);

/** The largest NumericDate (seconds) a `Date` can represent: ±8.64e15 ms (ECMA-262 §21.4.1.1). */
const MAX_DATE_SECONDS = 8.64e12;

/**
 * A claim value for display: times as dates when they are finite and within `Date`'s range, other values as JSON
 * (a non-finite number as `Infinity`/`NaN`, which JSON would show as `null`). Never throws.
 */
export function formatClaim(name: string, value: unknown, now = Date.now()): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  if (TIME_CLAIMS.has(name) && typeof value === 'number' && Math.abs(value) < MAX_DATE_SECONDS)
    return `${formatTime(value * 1000, now)} — ${value}`;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** An ISO-8601 string from the API, or a dash. */
export function formatIso(iso: string | null | undefined, now = Date.now()): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? iso : formatTime(ms, now);
}
