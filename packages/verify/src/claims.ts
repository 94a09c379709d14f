/**
 * Jot's own claims, checked after the standard ones: the types the revocation checks and guards rely on. A token
 * whose `ver` is a string could otherwise slip past `ver >= ver` comparisons.
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
 * Narrows a verified payload to `AccessTokenClaims` or throws `ERR_JWT_CLAIM_INVALID`.
 *
 * @example
 * const claims = asAccessTokenClaims(payload);
 */
export function asAccessTokenClaims(payload: JWTPayload): AccessTokenClaims {
  if (typeof payload.sid !== 'string' || payload.sid.length === 0)
    throw invalid('sid', 'the "sid" claim must be a string');
  if (typeof payload.ver !== 'number' || !Number.isFinite(payload.ver))
    throw invalid('ver', 'the "ver" claim must be a number');
  if (typeof payload.auth_time !== 'number' || !Number.isFinite(payload.auth_time)) {
    throw invalid('auth_time', 'the "auth_time" claim must be a number');
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
  return payload as AccessTokenClaims;
}
