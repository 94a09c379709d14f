/**
 * RFC 7662 §2.2 introspection answers, one shape for both endpoints (`/oauth/introspect` and the resource-server
 * `/api/introspect`): `active`, then the token's claims — `token_type: "Bearer"` for access tokens (the RFC 6749
 * §7.1 type, not the kind of token) — never the CSRF hash. A refresh token is described by its session.
 */
import type { AccessTokenClaims, IntrospectionResponse } from '@jot/contract';

import type { Session } from '../store/index.js';

/** The introspection response body. */
export type { IntrospectionResponse };

/** The 200 answer's schema, for both endpoints: `active`, then the claims of an active token (RFC 7662 §2.2). */
export const INTROSPECTION_RESPONSE_SCHEMA = {
  type: 'object',
  description:
    '{"active": false}, or {"active": true} with the token\'s claims (scope, client_id, sub, aud, iss, exp, iat, jti, ' +
    'sid, token_type, cnf, act, …)',
  required: ['active'],
  properties: { active: { type: 'boolean' } },
  additionalProperties: true,
} as const;

/** The answer for an access token: its claims when active. */
export function accessTokenIntrospection(claims: AccessTokenClaims | undefined): IntrospectionResponse {
  if (claims === undefined) return { active: false };
  const { cth: _cth, ...rest } = claims;
  // RFC 9449 §6.2: a DPoP-bound token introspects with its `cnf` and `token_type: DPoP`.
  return { active: true, ...rest, token_type: rest.cnf === undefined ? 'Bearer' : 'DPoP' };
}

/** The answer for a live refresh token (RFC 7662 §2.2 members that apply to it). */
export function refreshTokenIntrospection(
  session: Session,
  issuer: string,
  scope: string | undefined,
  issuedAt: number,
): IntrospectionResponse {
  const idleEnd = session.idleTimeoutMs === null ? Infinity : session.lastUsedAt + session.idleTimeoutMs;
  const body: IntrospectionResponse = {
    active: true,
    client_id: session.clientId,
    sub: session.userId,
    iss: issuer,
    sid: session.id,
    iat: Math.floor(issuedAt / 1000),
    exp: Math.floor(Math.min(session.absoluteExpiresAt, idleEnd) / 1000),
  };
  if (scope !== undefined) body.scope = scope;
  return body;
}
