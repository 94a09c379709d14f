/**
 * Per-route requirements on an authenticated token: scopes (RFC 9068 `scope`), roles (Jot's `roles`),
 * permissions (a `permissions` array when the issuer adds one), the client the token was issued to (RFC 9068
 * `client_id`), who acts for the subject (RFC 8693 `act`), and step-up (RFC 9470: `auth_time` no older
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
  /** The token's `client_id` must be one of these (e.g. only the billing service may call this route). */
  clientIds?: readonly string[];
  /**
   * Token exchange (RFC 8693 `act`): a list means the token must have been obtained by one of these actors for
   * its subject (`act.sub`, the immediate actor); `false` means it must not be delegated at all (no `act`).
   */
  actors?: readonly string[] | false;
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
  readonly clientIds: readonly string[];
  /** Undefined: any; false: no `act`; a list: `act.sub` among them. */
  readonly actors: readonly string[] | false | undefined;
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
/** The compiled guards that require nothing (every list empty, no `maxAuthAge`, any actor). */
const unguarded = new WeakSet<object>();

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
    clientIds: names(guards.clientIds, 'clientIds'),
    actors:
      guards.actors === undefined || guards.actors === false ? guards.actors : names(guards.actors, 'actors'),
  });
  compiled.add(result);
  const requiresNothing =
    result.scopes.length === 0 &&
    result.roles.length === 0 &&
    result.permissions.length === 0 &&
    result.maxAuthAge === undefined &&
    result.acr.length === 0 &&
    result.amr.length === 0 &&
    result.clientIds.length === 0 &&
    result.actors === undefined;
  if (requiresNothing) unguarded.add(result);
  return result;
}

/**
 * Throws a 403 `VerifyError` for a missing scope, role or permission, or a 401 step-up challenge.
 *
 * @example
 * enforceGuards(claims, compileGuards({ scopes: ['orders:write'], maxAuthAge: '5m' }), nowSeconds);
 */
export function enforceGuards(claims: AccessTokenClaims, guards: CompiledGuards, now: number): void {
  // A route with no guard at all (the usual case) has nothing to check: no Set, array or message is built for it.
  if (unguarded.has(guards)) return;
  if (guards.scopes.length > 0) {
    const granted = new Set(typeof claims.scope === 'string' ? claims.scope.split(' ') : []);
    const missing = guards.scopes.filter((scope) => !granted.has(scope));
    if (missing.length > 0) {
      throw new VerifyError('ERR_FORBIDDEN', `this request needs the scope "${missing.join(' ')}"`, {
        claim: 'scope',
        reason: 'missing',
        scope: guards.scopes.join(' '),
      });
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
        'ERR_FORBIDDEN',
        `this request needs the ${claim === 'roles' ? 'role' : 'permission'} "${missing}"`,
        {
          claim,
          reason: 'missing',
        },
      );
    }
  }
  enforceCaller(claims, guards);
  enforceAuthentication(claims, guards, now);
}

/** The calling client (`client_id`) and the actor of a delegated token (`act.sub`). */
function enforceCaller(claims: AccessTokenClaims, guards: CompiledGuards): void {
  const clientId = claims.client_id;
  if (guards.clientIds.length > 0 && !(typeof clientId === 'string' && guards.clientIds.includes(clientId))) {
    throw new VerifyError(
      'ERR_FORBIDDEN',
      `this request is only for the clients ${guards.clientIds.join(', ')}`,
      { claim: 'client_id', reason: clientId === undefined ? 'missing' : 'mismatch' },
    );
  }
  const actor = claims.act?.sub;
  if (guards.actors === false && claims.act !== undefined) {
    throw new VerifyError('ERR_FORBIDDEN', 'this request does not accept delegated (exchanged) tokens', {
      claim: 'act',
      reason: 'delegated',
    });
  }
  if (Array.isArray(guards.actors) && !(actor !== undefined && guards.actors.includes(actor))) {
    throw new VerifyError(
      'ERR_FORBIDDEN',
      `this request needs a token exchanged by ${guards.actors.join(', ')}`,
      { claim: 'act', reason: actor === undefined ? 'missing' : 'mismatch' },
    );
  }
}

function stringsOf(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** The step-up part: `acr`, `amr` and `auth_time` (RFC 9470). */
function enforceAuthentication(claims: AccessTokenClaims, guards: CompiledGuards, now: number): void {
  const acrValues = guards.acr.length > 0 ? guards.acr.join(' ') : undefined;
  const maxAge = guards.maxAuthAge;
  const within = maxAge === undefined ? '' : ` within the last ${maxAge} seconds`;
  if (guards.acr.length > 0 && !(typeof claims.acr === 'string' && guards.acr.includes(claims.acr))) {
    throw new VerifyError(
      'ERR_STEP_UP_REQUIRED',
      `this request needs an authentication of level ${acrValues}${within}`,
      { claim: 'acr', reason: 'insufficient', acrValues, maxAge },
    );
  }
  const methods = new Set(stringsOf(claims.amr));
  const missing = guards.amr.find((m) => !methods.has(m));
  if (missing !== undefined) {
    throw new VerifyError(
      'ERR_STEP_UP_REQUIRED',
      `this request needs an authentication with "${missing}"${within}`,
      { claim: 'amr', reason: 'missing', acrValues, maxAge },
    );
  }
  // A token without `auth_time` (a service's own, or another issuer's) never satisfies a step-up guard.
  const authTime = claims.auth_time;
  if (maxAge !== undefined && !(authTime !== undefined && now - authTime <= maxAge)) {
    throw new VerifyError('ERR_STEP_UP_REQUIRED', `this request needs an authentication${within}`, {
      claim: 'auth_time',
      reason: 'too_old',
      maxAge,
      acrValues,
    });
  }
}
