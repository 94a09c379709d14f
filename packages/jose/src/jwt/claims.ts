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
  /** The accepted issuer when there is exactly one (compared with `===`: no string hashing per token). */
  readonly issuer: string | undefined;
  /** The accepted audience when there is exactly one. */
  readonly audience: string | undefined;
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

/** The one member of a set of exactly one, else `undefined`. */
function only(set: ReadonlySet<string> | undefined): string | undefined {
  return set?.size === 1 ? set.values().next().value : undefined;
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
  const issuers = stringSet(options.issuer, 'issuer');
  const audiences = stringSet(options.audience, 'audience');
  return Object.freeze({
    issuers,
    audiences,
    issuer: only(issuers),
    audience: only(audiences),
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

// The claim helpers take the value read by name at the call site: a named load of a JSON.parse object is a fast
// inline property read, where `payload[claim]` with a variable name is a generic (megamorphic) lookup.
function numericDate(claim: 'exp' | 'nbf' | 'iat', value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw fail(claim, 'type', `the "${claim}" claim must be a finite number of seconds`);
  }
  return value;
}

function checkTyp(header: Readonly<JWSHeader>, expected: string): void {
  if (typeof header.typ !== 'string')
    throw fail('typ', 'missing', `the token has no "typ"; expected ${expected}`);
  if (normalizeTyp(header.typ) !== expected)
    throw fail('typ', 'mismatch', `the token "typ" is not ${expected}`);
}

function checkRequired(payload: JWTPayload, required: readonly string[]): void {
  for (let i = 0; i < required.length; i++) {
    const claim = required[i] as string;
    if (!Object.hasOwn(payload, claim) || payload[claim] === undefined) {
      throw fail(claim, 'missing', `the "${claim}" claim is required`);
    }
  }
}

function stringClaim(payload: JWTPayload, claim: 'iss' | 'sub' | 'jti', value: unknown): void {
  // Own properties only, as for every claim (an inherited one is not the token's); asked only for a non-string.
  if (value !== undefined && typeof value !== 'string' && Object.hasOwn(payload, claim)) {
    throw fail(claim, 'type', `the "${claim}" claim must be a string`);
  }
}

function isStringArray(value: unknown): value is string[] {
  if (!Array.isArray(value)) return false;
  for (let i = 0; i < value.length; i++) if (typeof value[i] !== 'string') return false;
  return true;
}

/** Registered claims have their JSON types whether or not a rule asks about them. */
function checkClaimTypes(payload: JWTPayload): void {
  stringClaim(payload, 'iss', payload.iss);
  stringClaim(payload, 'sub', payload.sub);
  stringClaim(payload, 'jti', payload.jti);
  const aud = payload.aud;
  if (aud !== undefined && typeof aud !== 'string' && !isStringArray(aud)) {
    throw fail('aud', 'type', 'the "aud" claim must be a string or an array of strings');
  }
}

/** `exp`, `nbf`, `iat` and the maximum age, each with the clock tolerance. */
function checkTimes(payload: JWTPayload, rules: ClaimRules, now: number): void {
  const tolerance = rules.tolerance;
  const exp = numericDate('exp', payload.exp);
  const nbf = numericDate('nbf', payload.nbf);
  const iat = numericDate('iat', payload.iat);
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
}

/**
 * Whether `value` is one of the accepted strings. With a single accepted value a string compare does it: a `Set`
 * lookup would hash the token's string first (it is a new string on every token), which costs more.
 */
function accepted(value: unknown, set: ReadonlySet<string>, single: string | undefined): boolean {
  if (typeof value !== 'string') return false;
  return single === undefined ? set.has(value) : value === single;
}

function audienceMatches(aud: unknown, audiences: ReadonlySet<string>, single: string | undefined): boolean {
  if (!Array.isArray(aud)) return accepted(aud, audiences, single);
  for (let i = 0; i < aud.length; i++) if (accepted(aud[i], audiences, single)) return true;
  return false;
}

/** `iss`, `sub` and `aud` against the accepted values (types were checked before). */
function checkParties(payload: JWTPayload, rules: ClaimRules): void {
  if (rules.issuers !== undefined && !accepted(payload.iss, rules.issuers, rules.issuer)) {
    throw fail(
      'iss',
      payload.iss === undefined ? 'missing' : 'mismatch',
      'the token was not issued by an accepted issuer',
    );
  }
  if (rules.subject !== undefined && payload.sub !== rules.subject) {
    throw fail('sub', payload.sub === undefined ? 'missing' : 'mismatch', 'the token subject does not match');
  }
  if (rules.audiences !== undefined && !audienceMatches(payload.aud, rules.audiences, rules.audience)) {
    const reason = payload.aud === undefined ? 'missing' : 'mismatch';
    throw fail('aud', reason, 'the token is not meant for this audience');
  }
}

/** Checks `payload` (and the `typ` header) against `rules` at time `now` (epoch seconds). */
export function validateClaims(
  payload: JWTPayload,
  header: Readonly<JWSHeader>,
  rules: ClaimRules,
  now: number,
): void {
  if (rules.typ !== undefined) checkTyp(header, rules.typ);
  checkRequired(payload, rules.required);
  checkClaimTypes(payload);
  checkTimes(payload, rules, now);
  checkParties(payload, rules);
}
