/**
 * Successful token responses. First-party endpoints (`POST /api/login`, `/api/token/refresh`, `/api/token/renew`,
 * `/api/reauth`, `/api/mfa/*`) answer in the session's delivery form; the OAuth token endpoint answers RFC 6749
 * §5.1 (and RFC 8693 §2.2.1 for token exchange). All are sent with `Cache-Control: no-store`.
 */

/** `Bearer`, or `DPoP` when the access token is bound to the client's DPoP key (RFC 9449 §5). */
export type TokenType = 'Bearer' | 'DPoP';

/**
 * A first-party token response. Which fields appear depends on the session's delivery: `bearer` has both tokens in
 * the body; `cookie` has only `csrf_token` (the tokens are in HttpOnly cookies); `memory` has the access token in
 * the body and the refresh token in its cookie.
 */
export interface SessionTokenResponse {
  token_type: TokenType;
  /** Seconds until the access token expires. */
  expires_in: number;
  access_token?: string;
  refresh_token?: string;
  /** The anti-CSRF token to echo in the CSRF header on cookie-authenticated writes. */
  csrf_token?: string;
  /**
   * `bearer` sign-ins only (password, second step, passkey): the device credential for the account, which a client
   * without a cookie jar keeps and sends as `device_token` on its next sign-ins (the other deliveries have it in the
   * device cookie, `COOKIES.device`).
   */
  device_token?: string;
}

/**
 * The 403 answer of the password step (`POST /api/login`) when the account has a second factor: an error body that
 * carries what the second step (`POST /api/login/mfa`) needs.
 */
export interface MfaRequiredBody {
  error: 'mfa_required';
  error_description: string;
  code: 'ERR_MFA_REQUIRED';
  /** Short-lived, single-use: proves the password step to the second step. */
  mfa_token: string;
  /** Seconds the `mfa_token` lives. */
  mfa_token_expires_in: number;
  /** What the second step accepts: `totp`, `webauthn`, `recovery_code`. */
  mfa_methods: string[];
}

/** The OAuth token endpoint's answer (RFC 6749 §5.1; RFC 8693 §2.2.1 adds `issued_token_type`). */
export interface OAuthTokenResponse {
  access_token: string;
  token_type: TokenType;
  /** Seconds. */
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  issued_token_type?: string;
}

/** RFC 7662 §2.2: the introspection answer (`active: false` alone for anything not active). */
export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  username?: string;
  token_type?: string;
  exp?: number;
  iat?: number;
  nbf?: number;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  jti?: string;
  [member: string]: unknown;
}
