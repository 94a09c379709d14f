/**
 * Request bodies the web UI and `@jot/client` send to the server's session API. Type aliases, not interfaces, so a
 * body is a `Record<string, unknown>` the client's JSON sender accepts.
 */

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

/** `POST /api/login/mfa`: the second step of a sign-in, with the `mfa_token` of the `mfa_required` answer. */
export type MfaSignInBody = MfaProofFields & { mfa_token: string };
