/**
 * JWT claim validation (RFC 7519 §4.1, RFC 8725 §3.8–3.12). Registered claims must have their JSON types whether or
 * not a rule asks about them: NumericDates are finite numbers (`"9999999999" > now` is true in JavaScript and
 * `1e400` parses to Infinity), `aud` is a string or an array of strings compared exactly, `iss` is one string.
 */
import { JoseError } from '../errors.js';
import type { JWSHeader } from '../jws/types.js';
import { parseDuration } from '../lib/duration.js';
import type { JWTPayload } from './types.js';

/** Claim rules as the caller writes them. */
export interface ClaimOptions {
  /** Accepted issuer(s); `iss` must equal one exactly. */
  issuer?: string | readonly string[];
  /** Accepted audience(s); `aud` (string or array) must contain at least one. */
  audience?: string | readonly string[];
  /** Required `sub`. */
  subject?: string;
  /** Required `typ` header, e.g. `at+jwt`; compared case-insensitively, `application/` prefix optional (RFC 7515 §4.1.9). */
  typ?: string;
  /** Claims that must be present. */
  requiredClaims?: readonly string[];
  /** Whether `exp` must be present. Every token Jot issues has one. @default true */
  requireExp?: boolean;
  /** Leeway for `exp`, `nbf` and `iat`, seconds or a duration string. @default 0 */
  clockTolerance?: number | string;
  /** Maximum age since `iat` (which then becomes required), seconds or a duration string. */
  maxTokenAge?: number | string;
}

/** Claim rules after validation, ready for the hot path. */
export interface ClaimRules {
  readonly issuers: ReadonlySet<string> | undefined;
  readonly audiences: ReadonlySet<string> | undefined;
  readonly subject: string | undefined;
  readonly typ: string | undefined;
  readonly required: readonly string[];
  readonly tolerance: number;
  readonly maxAge: number | undefined;
}

function stringSet(value: unknown, name: string): ReadonlySet<string> | undefined {
  if (value === undefined) return undefined;
  const list: unknown[] =
    typeof value === 'string' ? [value] : Array.isArray(value) ? (value as unknown[]) : [];
  if (list.length === 0 || !list.every((item) => typeof item === 'string' && item.length > 0)) {
    throw new TypeError(`verify: "${name}" must be a non-empty string or array of strings`);
  }
  return new Set(list as string[]);
}

function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice(12) : lower;
}

/** Validates claim options once (`TypeError` on misuse). */
export function compileClaimRules(options: ClaimOptions): ClaimRules {
  const requiredClaims: unknown = options.requiredClaims ?? [];
  if (!Array.isArray(requiredClaims) || !requiredClaims.every((c) => typeof c === 'string' && c.length > 0)) {
    throw new TypeError('verify: "requiredClaims" must be an array of claim names');
  }
  const required = new Set(requiredClaims as string[]);
  if (options.requireExp !== false) required.add('exp');
  const maxAge = options.maxTokenAge === undefined ? undefined : parseDuration(options.maxTokenAge);
  if (maxAge !== undefined) required.add('iat');
  if (options.subject !== undefined && typeof options.subject !== 'string') {
    throw new TypeError('verify: "subject" must be a string');
  }
  if (options.typ !== undefined && (typeof options.typ !== 'string' || options.typ.length === 0)) {
    throw new TypeError('verify: "typ" must be a non-empty string');
  }
  return Object.freeze({
    issuers: stringSet(options.issuer, 'issuer'),
    audiences: stringSet(options.audience, 'audience'),
    subject: options.subject,
    typ: options.typ === undefined ? undefined : normalizeTyp(options.typ),
    required: [...required],
    tolerance: parseDuration(options.clockTolerance ?? 0),
    maxAge,
  });
}

function fail(claim: string, reason: string, message: string): JoseError {
  return new JoseError('ERR_JWT_CLAIM_INVALID', message, { claim, reason });
}

function numericDate(payload: JWTPayload, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw fail(claim, 'type', `the "${claim}" claim must be a finite number of seconds`);
  }
  return value;
}

/** Checks `payload` (and the `typ` header) against `rules` at time `now` (epoch seconds). */
export function validateClaims(
  payload: JWTPayload,
  header: Readonly<JWSHeader>,
  rules: ClaimRules,
  now: number,
): void {
  if (rules.typ !== undefined) {
    if (typeof header.typ !== 'string')
      throw fail('typ', 'missing', `the token has no "typ"; expected ${rules.typ}`);
    if (normalizeTyp(header.typ) !== rules.typ)
      throw fail('typ', 'mismatch', `the token "typ" is not ${rules.typ}`);
  }
  for (const claim of rules.required) {
    if (!Object.hasOwn(payload, claim) || payload[claim] === undefined) {
      throw fail(claim, 'missing', `the "${claim}" claim is required`);
    }
  }
  for (const claim of ['iss', 'sub', 'jti'] as const) {
    if (Object.hasOwn(payload, claim) && typeof payload[claim] !== 'string') {
      throw fail(claim, 'type', `the "${claim}" claim must be a string`);
    }
  }
  const aud = payload.aud;
  if (aud !== undefined && typeof aud !== 'string') {
    if (!Array.isArray(aud) || !aud.every((item) => typeof item === 'string')) {
      throw fail('aud', 'type', 'the "aud" claim must be a string or an array of strings');
    }
  }

  const tolerance = rules.tolerance;
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  if (exp !== undefined && exp <= now - tolerance) {
    throw new JoseError('ERR_JWT_EXPIRED', 'the token has expired', { claim: 'exp', reason: 'expired' });
  }
  if (nbf !== undefined && nbf > now + tolerance) {
    throw new JoseError('ERR_JWT_NOT_YET_VALID', 'the token is not valid yet', {
      claim: 'nbf',
      reason: 'future',
    });
  }
  if (iat !== undefined && iat > now + tolerance) {
    throw fail('iat', 'future', 'the token claims to be issued in the future');
  }
  if (rules.maxAge !== undefined && iat !== undefined && now - iat > rules.maxAge + tolerance) {
    throw new JoseError('ERR_JWT_EXPIRED', 'the token is older than the maximum age', {
      claim: 'iat',
      reason: 'too_old',
    });
  }

  if (rules.issuers !== undefined && (typeof payload.iss !== 'string' || !rules.issuers.has(payload.iss))) {
    throw fail(
      'iss',
      payload.iss === undefined ? 'missing' : 'mismatch',
      'the token was not issued by an accepted issuer',
    );
  }
  if (rules.subject !== undefined && payload.sub !== rules.subject) {
    throw fail('sub', payload.sub === undefined ? 'missing' : 'mismatch', 'the token subject does not match');
  }
  if (rules.audiences !== undefined) {
    const audiences = rules.audiences;
    const matches =
      typeof aud === 'string' ? audiences.has(aud) : Array.isArray(aud) && aud.some((a) => audiences.has(a));
    if (!matches)
      throw fail(
        'aud',
        aud === undefined ? 'missing' : 'mismatch',
        'the token is not meant for this audience',
      );
  }
}
