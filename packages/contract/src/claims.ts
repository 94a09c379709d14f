/**
 * The claims of a Jot access token: the RFC 9068 §2.2 JWT profile for OAuth 2.0 access tokens plus Jot's own
 * (`sid`, `ver`, `roles`, `cth`, …). The server signs these, `@jot/verify` checks them, `@jot/client` reads them
 * back from `GET /api/whoami`. Read-only: a verifier may share one claims object between requests.
 */

/** RFC 8693 §4.1 `act`: the party acting for the subject; a nested `act` is the one that acted before it. */
export interface ActorClaim {
  readonly sub: string;
  readonly client_id?: string;
  readonly act?: ActorClaim;
  readonly [claim: string]: unknown;
}

/** RFC 9449 §6.1 / RFC 7800 confirmation: the thumbprint of the DPoP key the token is bound to. */
export interface ConfirmationClaim {
  readonly jkt: string;
}

/**
 * Any access token Jot issues: a user's (see {@link UserAccessTokenClaims}) or a client's own (client credentials:
 * `sub` = `client_id`, no session).
 */
export interface AccessTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string | string[];
  /** Epoch seconds. */
  readonly exp: number;
  /** Epoch seconds. */
  readonly iat: number;
  readonly jti: string;
  /** The OAuth client the token was issued to (RFC 9068 §2.2; `jot` for the first-party web sessions). */
  readonly client_id?: string;
  /** Space-separated scopes (RFC 9068 §2.2.3). */
  readonly scope?: string;
  /** Session id (the refresh-token family); a logout ends it. Every user token has one. */
  readonly sid?: string;
  /** The user's token version when issued; a role change or disable bumps it. Every user token has one. */
  readonly ver?: number;
  /** Epoch seconds of the last password authentication (RFC 9470 step-up). Every user token has one. */
  readonly auth_time?: number;
  /** The user's roles (`admin`, …). */
  readonly roles?: readonly string[];
  /** Fine-grained permissions, when the issuer adds them. */
  readonly permissions?: readonly string[];
  /** Whether the account's email address has been verified by a link. */
  readonly email_verified?: boolean;
  /** RFC 8176 methods of the session's last authentication (`pwd`, `otp`, `hwk`, `mfa`, …). */
  readonly amr?: readonly string[];
  /** The level of that authentication: `aal1` (one factor) or `aal2` (two). */
  readonly acr?: string;
  /** base64url SHA-256 of the session's anti-CSRF token (cookie mode only). */
  readonly cth?: string;
  /** RFC 9449 §6.1: the DPoP key the token is bound to. */
  readonly cnf?: ConfirmationClaim;
  /** Token exchange (RFC 8693): who acts for `sub`. */
  readonly act?: ActorClaim;
  readonly [claim: string]: unknown;
}

/** A user's access token: the session claims are always there. */
export interface UserAccessTokenClaims extends AccessTokenClaims {
  readonly sid: string;
  readonly ver: number;
  readonly auth_time: number;
  readonly roles: readonly string[];
}

/** The `typ` header of a Jot access token (RFC 9068 §2.1). */
export const ACCESS_TOKEN_TYP = 'at+jwt';

/** The `client_id` of Jot's own first-party sessions (the web UI, `@jot/client`). */
export const FIRST_PARTY_CLIENT_ID = 'jot';
