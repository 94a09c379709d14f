/**
 * Per-route requirements on an authenticated token: scopes (RFC 9068 `scope`), roles (Jot's `roles`),
 * permissions (a `permissions` array when the issuer adds one), and step-up (RFC 9470: `auth_time` no older
 * than `maxAuthAge`, an `acr` among `acr`, every method of `amr` in the token's RFC 8176 `amr` — answered with
 * `insufficient_user_authentication`, `max_age` and `acr_values`).
 */
import { toMillis, type Duration } from './duration.js';
import { VerifyError } from './errors.js';
import type { AccessTokenClaims } from './types.js';

/** What a route requires. Every listed scope, role and permission is required (all of them). */
export interface Guards {
  scopes?: readonly string[];
  roles?: readonly string[];
  permissions?: readonly string[];
  /** Step-up: the user must have authenticated within this long (ms or `"5m"`). */
  maxAuthAge?: Duration;
  /**
   * Step-up: the token's `acr` must be one of these (Jot issues `aal1` for a password, `aal2` for two factors);
   * the challenge's `acr_values` lists them.
   */
  acr?: readonly string[];
  /** Every one of these RFC 8176 methods must be in the token's `amr` (e.g. `['mfa']`, `['hwk']`). */
  amr?: readonly string[];
}

/** Guards validated once, when the middleware is built. */
export interface CompiledGuards {
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  readonly permissions: readonly string[];
  /** Seconds. */
  readonly maxAuthAge: number | undefined;
  readonly acr: readonly string[];
  readonly amr: readonly string[];
}

function names(value: unknown, name: string): readonly string[] {
  if (value === undefined) return [];
  if (
    !Array.isArray(value) ||
    !value.every((item) => typeof item === 'string' && item.length > 0 && !/\s/.test(item))
  ) {
    throw new TypeError(`verify: "${name}" must be an array of non-empty names without spaces`);
  }
  return [...(value as string[])];
}

const compiled = new WeakSet<object>();

/** True for the result of `compileGuards`. */
export function isCompiledGuards(value: Guards | CompiledGuards): value is CompiledGuards {
  return compiled.has(value);
}

/**
 * Checks guard options once (`TypeError` on misuse), so a route's middleware does no option work per request.
 *
 * @example
 * const adminOnly = compileGuards({ roles: ['admin'], maxAuthAge: '5m' });
 */
export function compileGuards(guards: Guards = {}): CompiledGuards {
  if (isCompiledGuards(guards)) return guards;
  const maxAuthAge =
    guards.maxAuthAge === undefined
      ? undefined
      : Math.floor(toMillis(guards.maxAuthAge, 'maxAuthAge') / 1000);
  const result: CompiledGuards = Object.freeze({
    scopes: names(guards.scopes, 'scopes'),
    roles: names(guards.roles, 'roles'),
    permissions: names(guards.permissions, 'permissions'),
    maxAuthAge,
    acr: names(guards.acr, 'acr'),
    amr: names(guards.amr, 'amr'),
  });
  compiled.add(result);
  return result;
}

/**
 * Throws a 403 `VerifyError` for a missing scope, role or permission, or a 401 step-up challenge.
 *
 * @example
 * enforceGuards(claims, compileGuards({ scopes: ['orders:write'], maxAuthAge: '5m' }), nowSeconds);
 */
export function enforceGuards(claims: AccessTokenClaims, guards: CompiledGuards, now: number): void {
  if (guards.scopes.length > 0) {
    const granted = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : []);
    const missing = guards.scopes.filter((scope) => !granted.has(scope));
    if (missing.length > 0) {
      throw new VerifyError(
        'ERR_VERIFY_INSUFFICIENT_SCOPE',
        `this request needs the scope "${missing.join(' ')}"`,
        {
          claim: 'scope',
          reason: 'missing',
          scope: guards.scopes.join(' '),
        },
      );
    }
  }
  for (const [list, claim] of [
    [guards.roles, 'roles'],
    [guards.permissions, 'permissions'],
  ] as const) {
    if (list.length === 0) continue;
    const value = claims[claim];
    const granted = new Set(
      Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [],
    );
    const missing = list.find((item) => !granted.has(item));
    if (missing !== undefined) {
      throw new VerifyError(
        'ERR_VERIFY_FORBIDDEN',
        `this request needs the ${claim === 'roles' ? 'role' : 'permission'} "${missing}"`,
        {
          claim,
          reason: 'missing',
        },
      );
    }
  }
  enforceAuthentication(claims, guards, now);
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The step-up part: `acr`, `amr` and `auth_time` (RFC 9470). */
function enforceAuthentication(claims: AccessTokenClaims, guards: CompiledGuards, now: number): void {
  const acrValues = guards.acr.length > 0 ? guards.acr.join(' ') : undefined;
  const maxAge = guards.maxAuthAge;
  if (guards.acr.length > 0 && !(typeof claims.acr === 'string' && guards.acr.includes(claims.acr))) {
    throw new VerifyError(
      'ERR_VERIFY_STEP_UP_REQUIRED',
      `a stronger authentication (${acrValues}) is required`,
      {
        claim: 'acr',
        reason: 'insufficient',
        acrValues,
        maxAge,
      },
    );
  }
  const methods = new Set(stringsOf(claims.amr));
  const missing = guards.amr.find((m) => !methods.has(m));
  if (missing !== undefined) {
    throw new VerifyError('ERR_VERIFY_STEP_UP_REQUIRED', `an authentication with "${missing}" is required`, {
      claim: 'amr',
      reason: 'missing',
      acrValues,
      maxAge,
    });
  }
  if (guards.maxAuthAge !== undefined && !(now - claims.auth_time <= guards.maxAuthAge)) {
    throw new VerifyError('ERR_VERIFY_STEP_UP_REQUIRED', 'more recent authentication is required', {
      claim: 'auth_time',
      reason: 'too_old',
      maxAge: guards.maxAuthAge,
      acrValues,
    });
  }
}
