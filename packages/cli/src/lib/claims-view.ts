/**
 * How `decode` and `verify` show a token: NumericDate claims as ISO dates with a relative time, and the warnings a
 * person reading a token should not miss (RFC 8725 §3.1 for `alg: none`; no `exp`; expired; a long lifetime).
 */

/** The registered claims holding NumericDates (RFC 7519 §4.1.4–4.1.6) and OIDC's `auth_time`. */
const TIME_CLAIMS = ['iat', 'nbf', 'exp', 'auth_time'] as const;

/** Lifetimes longer than this get a warning. */
const LONG_LIFETIME_SECONDS = 86_400;

/** One NumericDate claim, readable. */
export interface TimeView {
  readonly claim: string;
  readonly seconds: number;
  readonly iso: string;
  /** "in 14m", "3h ago". */
  readonly relative: string;
}

/** Seconds as a short human duration: 45s, 14m, 3h, 2d. */
export function humanDuration(seconds: number): string {
  const s = Math.abs(Math.round(seconds));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function isNumericDate(value: unknown): value is number {
  // Beyond ±8.64e12 s a Date is invalid and toISOString would throw.
  return typeof value === 'number' && Number.isFinite(value) && Math.abs(value) < 8.64e12;
}

/** The NumericDate claims of `payload` as ISO dates relative to `now`. */
export function timeViews(payload: Readonly<Record<string, unknown>>, now: Date): TimeView[] {
  const nowSeconds = now.getTime() / 1000;
  const views: TimeView[] = [];
  for (const claim of TIME_CLAIMS) {
    const value = payload[claim];
    if (!Object.hasOwn(payload, claim) || !isNumericDate(value)) continue;
    const delta = value - nowSeconds;
    views.push({
      claim,
      seconds: value,
      iso: new Date(value * 1000).toISOString(),
      relative: delta >= 0 ? `in ${humanDuration(delta)}` : `${humanDuration(delta)} ago`,
    });
  }
  return views;
}

/** Warnings about a token's header and claims, checked at `now`. */
export function tokenWarnings(
  header: Readonly<Record<string, unknown>>,
  payload: Readonly<Record<string, unknown>>,
  now: Date,
): string[] {
  const warnings: string[] = [];
  const nowSeconds = now.getTime() / 1000;
  const alg = header.alg;
  if (typeof alg !== 'string') warnings.push('the header has no "alg"');
  else if (alg.toLowerCase() === 'none')
    warnings.push('alg is "none": the token is unsigned and must never be accepted');
  const { exp, nbf, iat } = payload;
  if (exp === undefined) warnings.push('no "exp" claim: the token never expires');
  else if (!isNumericDate(exp)) warnings.push('"exp" is not a number of seconds');
  else {
    if (exp <= nowSeconds) warnings.push(`expired ${humanDuration(nowSeconds - exp)} ago`);
    const start = isNumericDate(iat) ? iat : nowSeconds;
    if (exp - start > LONG_LIFETIME_SECONDS) {
      warnings.push(`lifetime of ${humanDuration(exp - start)} is longer than 1 day`);
    }
  }
  if (isNumericDate(nbf) && nbf > nowSeconds)
    warnings.push(`not valid before ${new Date(nbf * 1000).toISOString()}`);
  if (iat !== undefined && !isNumericDate(iat)) warnings.push('"iat" is not a number of seconds');
  if (isNumericDate(iat) && iat > nowSeconds + 60) warnings.push('"iat" is in the future');
  return warnings;
}

/** The human-readable block of time lines, e.g. `  exp  2025-01-01T00:15:00.000Z  (in 14m)`. */
export function formatTimes(views: readonly TimeView[]): string[] {
  return views.map((view) => `  ${view.claim.padEnd(9)} ${view.iso}  (${view.relative})`);
}
