/**
 * The claims of the access tokens this server signs (RFC 9068): a user's token, bound to a session, and a client's
 * own token (client credentials). Pure functions of their input and the clock; `tokens.ts` signs what they build.
 */
import {
  FIRST_PARTY_CLIENT_ID,
  type AccessTokenClaims,
  type ActorClaim,
  type UserAccessTokenClaims,
} from '@jot/contract';

import { randomBase64url } from './random-pool.js';

/** What goes into a client-credentials token. */
export interface ClientTokenInput {
  clientId: string;
  scope?: string;
  audience: string | string[];
  ttlSeconds: number;
  /** Bind the token to this DPoP key thumbprint (`cnf.jkt`, RFC 9449 §6). */
  dpopJkt?: string;
}

/** What goes into an access token besides the standard claims. */
export interface AccessTokenInput {
  userId: string;
  sessionId: string;
  tokenVersion: number;
  /** Epoch ms of the last password authentication. */
  authTime: number;
  roles: readonly string[];
  /** The `email_verified` claim. */
  emailVerified?: boolean;
  scope?: string;
  /** base64url SHA-256 of the session's CSRF token (cookie mode). */
  csrfHash?: string;
  /** @default FIRST_PARTY_CLIENT_ID */
  clientId?: string;
  /** @default the configured audience */
  audience?: string | string[];
  /** @default the configured access-token lifetime */
  ttlSeconds?: number;
  /** Token exchange: the acting party (RFC 8693 §4.1). */
  act?: ActorClaim;
  /** RFC 8176 authentication methods of the session's last authentication. */
  amr?: readonly string[];
  /** Authentication context class of the session's last authentication (`aal1`, `aal2`). */
  acr?: string;
  /** Bind the token to this DPoP key thumbprint (`cnf.jkt`, RFC 9449 §6). */
  dpopJkt?: string;
}

/** What a user's token takes from the configuration when its input does not say. */
export interface UserTokenDefaults {
  issuer: string;
  /** The configured audience: one string when there is one, else the list. */
  audience: string | string[];
  ttlSeconds: number;
}

/** The claims of a user's access token issued at `now` (epoch ms), and its lifetime in seconds. */
export function userTokenClaims(
  input: AccessTokenInput,
  defaults: UserTokenDefaults,
  now: number,
): { claims: UserAccessTokenClaims; ttl: number } {
  const iat = Math.floor(now / 1000);
  const ttl = input.ttlSeconds ?? defaults.ttlSeconds;
  const claims: UserAccessTokenClaims = {
    iss: defaults.issuer,
    iat,
    aud: input.audience ?? defaults.audience,
    sub: input.userId,
    exp: iat + ttl,
    jti: randomBase64url(16),
    sid: input.sessionId,
    ver: input.tokenVersion,
    auth_time: Math.floor(input.authTime / 1000),
    roles: [...input.roles],
    client_id: input.clientId ?? FIRST_PARTY_CLIENT_ID,
    ...(input.emailVerified === undefined ? {} : { email_verified: input.emailVerified }),
    ...(input.scope === undefined ? {} : { scope: input.scope }),
    ...(input.csrfHash === undefined ? {} : { cth: input.csrfHash }),
    ...(input.act === undefined ? {} : { act: input.act }),
    ...(input.amr === undefined ? {} : { amr: [...input.amr] }),
    ...(input.acr === undefined ? {} : { acr: input.acr }),
    ...(input.dpopJkt === undefined ? {} : { cnf: { jkt: input.dpopJkt } }),
  };
  return { claims, ttl };
}

/** The claims of a client's own token issued at `now` (epoch ms): `sub` = `client_id`, no session. */
export function clientTokenClaims(input: ClientTokenInput, issuer: string, now: number): AccessTokenClaims {
  const iat = Math.floor(now / 1000);
  return {
    iss: issuer,
    iat,
    aud: input.audience,
    sub: input.clientId,
    client_id: input.clientId,
    exp: iat + input.ttlSeconds,
    jti: randomBase64url(16),
    ...(input.scope === undefined ? {} : { scope: input.scope }),
    ...(input.dpopJkt === undefined ? {} : { cnf: { jkt: input.dpopJkt } }),
  };
}
