/**
 * Request bodies the web UI and `@jot/client` send to the server's session API, and the session-delivery choice a
 * sign-in makes. Type aliases, not interfaces, so a body is a `Record<string, unknown>` the client's JSON sender
 * accepts. The server's JSON schemas for these routes are pinned to them
 * (packages/contract/test/request-bodies.test.ts).
 */

/**
 * Where a session's tokens travel (`delivery` of a sign-in, the server's `JOT_TOKEN_DELIVERY`, `@jot/client`'s
 * `mode`): `bearer` both tokens in the body; `cookie` both in HttpOnly cookies, only the anti-CSRF token in the body;
 * `memory` the access token in the body, the refresh token in an HttpOnly cookie.
 */
export const SESSION_DELIVERIES = ['bearer', 'cookie', 'memory'] as const;

/** One of {@link SESSION_DELIVERIES}. */
export type SessionDelivery = (typeof SESSION_DELIVERIES)[number];

/** Whether a value (a stored column, a parsed option) is one of {@link SESSION_DELIVERIES}. */
export function isSessionDelivery(value: unknown): value is SessionDelivery {
  return (SESSION_DELIVERIES as readonly unknown[]).includes(value);
}

/** `POST /api/login`: email and password; `delivery` defaults to the server's `JOT_TOKEN_DELIVERY`. */
export type LoginBody = {
  email: string;
  password: string;
  delivery?: SessionDelivery;
  /**
   * A client without a cookie jar: the `device_token` an earlier sign-in answered (or up to `MAX_DEVICE_TOKENS`
   * joined by `.`), presented as the device cookie would be. One not well formed, expired or of another account is
   * simply no credential.
   */
  device_token?: string;
};

/**
 * `POST /api/passkeys/login`: a passwordless sign-in with a discoverable passkey (`AuthenticationResponseJSON` of
 * `@simplewebauthn/browser`); `delivery` as for {@link LoginBody}.
 */
export type PasskeyLoginBody = {
  credential: Record<string, unknown>;
  delivery?: SessionDelivery;
  /** As for {@link LoginBody}: kept (or renewed) by this sign-in rather than a new one given. */
  device_token?: string;
};

/** `POST /api/register` (when `JOT_REGISTRATION=open`): the new account. */
export type RegisterBody = {
  email: string;
  password: string;
  /** Display name, at most 200 characters. */
  name?: string;
};

/** `POST /api/reauth`: step-up (RFC 9470) with the signed-in user's password. */
export type ReauthBody = {
  password: string;
};

/** `POST /api/password`: the current password and the new one (the password policy applies to `new_password`). */
export type PasswordChangeBody = {
  current_password: string;
  new_password: string;
};

/**
 * The fields of a second-factor proof (`POST /api/login/mfa`, `POST /api/mfa/step-up`): exactly one of an
 * authenticator-app code, a recovery code, or a passkey assertion (`AuthenticationResponseJSON` of
 * `@simplewebauthn/browser`). The server answers 400 `ERR_VALIDATION` unless exactly one is present.
 */
export type MfaProofFields = {
  /** A 6-digit code of the authenticator app. */
  code?: string;
  /** One of the recovery codes. */
  recovery_code?: string;
  /** The passkey assertion as JSON. */
  webauthn?: Record<string, unknown>;
};

/**
 * `POST /api/login/mfa`: the second step of a sign-in, with the `mfa_token` of the `mfa_required` answer;
 * `device_token` as for {@link PasskeyLoginBody}.
 */
export type MfaSignInBody = MfaProofFields & { mfa_token: string; device_token?: string };
