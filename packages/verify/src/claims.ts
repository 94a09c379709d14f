/**
 * Jot's own claims, checked after the standard ones: the types the revocation checks and guards rely on. A token
 * whose `ver` is a string could otherwise slip past `ver >= ver` comparisons. The result is deep-frozen: the
 * verification cache hands the same object to every request bearing the token, so a handler must not be able to
 * change what the next request sees (`claims.roles.push('admin')` throws in strict mode).
 */
import { JoseError, type JWTPayload } from '@jot/jose';

import type { AccessTokenClaims } from './types.js';

function invalid(claim: string, message: string): JoseError {
  return new JoseError('ERR_JWT_CLAIM_INVALID', message, { claim, reason: 'type' });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

/**
 * Freezes a claims set and everything in it. Its members are walked with `for…in` (no array of them is made per
 * token), own ones only, and the stack of nested values is made only when there is one: most claims sets nest
 * nothing but `roles`.
 */
function freezeClaims<T extends object>(claims: T): T {
  Object.freeze(claims);
  let pending: unknown[] | undefined;
  for (const name in claims) {
    const child = claims[name];
    if (typeof child === 'object' && child !== null && Object.hasOwn(claims, name))
      (pending ??= []).push(child);
  }
  if (pending !== undefined) deepFreeze(pending);
  return claims;
}

/** Freezes the parsed JSON values of `pending` and everything in them (iteratively: no recursion depth to exhaust). */
function deepFreeze(pending: unknown[]): void {
  for (let item = pending.pop(); item !== undefined || pending.length > 0; item = pending.pop()) {
    if (typeof item !== 'object' || item === null || Object.isFrozen(item)) continue;
    Object.freeze(item);
    for (const child of Object.values(item)) {
      if (typeof child === 'object' && child !== null) pending.push(child);
    }
  }
}

/** Which claims a token must carry: Jot's own user tokens, or any RFC 9068 access token. */
export type ClaimsProfile = 'jot' | 'rfc9068';

function isActor(value: unknown, depth = 0): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || depth > 8) return false;
  const act = value as Record<string, unknown>;
  return typeof act.sub === 'string' && (act.act === undefined || isActor(act.act, depth + 1));
}

/**
 * Narrows a verified payload to deep-frozen `AccessTokenClaims` or throws `ERR_JWT_CLAIM_INVALID`. Under `'jot'`
 * (the default) `sid`, `ver` and `auth_time` are required; under `'rfc9068'` they are only type-checked when
 * present, and `client_id` is required (RFC 9068 §2.2).
 *
 * @example
 * const claims = asAccessTokenClaims(payload);
 */
export function asAccessTokenClaims(payload: JWTPayload, profile: ClaimsProfile = 'jot'): AccessTokenClaims {
  const jot = profile === 'jot';
  if ((jot || payload.sid !== undefined) && (typeof payload.sid !== 'string' || payload.sid.length === 0))
    throw invalid('sid', 'the "sid" claim must be a string');
  if (
    (jot || payload.ver !== undefined) &&
    (typeof payload.ver !== 'number' || !Number.isFinite(payload.ver))
  )
    throw invalid('ver', 'the "ver" claim must be a number');
  if (
    (jot || payload.auth_time !== undefined) &&
    (typeof payload.auth_time !== 'number' || !Number.isFinite(payload.auth_time))
  ) {
    throw invalid('auth_time', 'the "auth_time" claim must be a number');
  }
  if ((!jot || payload.client_id !== undefined) && typeof payload.client_id !== 'string') {
    throw invalid('client_id', 'the "client_id" claim must be a string');
  }
  if (payload.act !== undefined && !isActor(payload.act)) {
    throw invalid('act', 'the "act" claim must be an object with a string "sub"');
  }
  if (payload.roles !== undefined && !isStringArray(payload.roles))
    throw invalid('roles', 'the "roles" claim must be an array of strings');
  if (payload.permissions !== undefined && !isStringArray(payload.permissions)) {
    throw invalid('permissions', 'the "permissions" claim must be an array of strings');
  }
  if (payload.scope !== undefined && typeof payload.scope !== 'string')
    throw invalid('scope', 'the "scope" claim must be a string');
  if (payload.cth !== undefined && typeof payload.cth !== 'string')
    throw invalid('cth', 'the "cth" claim must be a string');
  if (payload.roles === undefined) payload.roles = [];
  return freezeClaims(payload as AccessTokenClaims);
}
