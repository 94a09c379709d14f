/**
 * Names on the HTTP wire that more than one package must spell the same: cookies, headers, and the paths a
 * resource server or client finds the issuer at.
 */

/**
 * The browser cookies. Over https the prefixed names (`__Host-` pins the access and device cookies to the host and
 * `Path=/`; the refresh cookie is scoped by `Path` to the refresh endpoint, so it can only be `__Secure-`);
 * plain-http development on localhost uses the unprefixed names.
 */
export const COOKIES = {
  access: { secure: '__Host-jot_at', plain: 'jot_at' },
  refresh: { secure: '__Secure-jot_rt', plain: 'jot_rt' },
  /** The sign-in device credentials (up to {@link MAX_DEVICE_TOKENS} tokens joined by `.`), not a session token. */
  device: { secure: '__Host-jot_device', plain: 'jot_device' },
} as const;

/**
 * How many device credentials a client presents and keeps at most (one per account signed in to from it): the
 * device cookie's tokens, and the `device_token` of a sign-in body.
 */
export const MAX_DEVICE_TOKENS = 4;

/**
 * Where a request's access token was found: `Authorization: Bearer`, the access cookie, or `Authorization: DPoP`
 * with a verified proof. The server's routes and `@jot/verify` report it alike.
 */
export type TokenLocation = 'bearer' | 'cookie' | 'dpop';

/** Jot's own and the DPoP request and response headers, lower-case as Node gives them. */
export const HEADERS = {
  /** Echoes the session's `csrf_token` on cookie-authenticated writes (double submit, checked against `cth`). */
  csrf: 'x-csrf-token',
  /** RFC 9449 §4: the DPoP proof. */
  dpop: 'dpop',
  /** RFC 9449 §8: the nonce a server wants in the next proof. */
  dpopNonce: 'dpop-nonce',
} as const;

/** The paths an issuer publishes its keys and metadata at (RFC 8414, RFC 8615). */
export const WELL_KNOWN = {
  jwks: '/.well-known/jwks.json',
  /** RFC 8414 §3: `/.well-known/oauth-authorization-server` (inserted before an issuer's own path). */
  authorizationServer: '/.well-known/oauth-authorization-server',
  /** OpenID Connect Discovery 1.0 §4 (appended to an issuer's path). */
  openidConfiguration: '/.well-known/openid-configuration',
} as const;

/** The endpoints the SDKs call, relative to the issuer. */
export const ENDPOINTS = {
  token: '/oauth/token',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
  login: '/api/login',
  loginMfa: '/api/login/mfa',
  /** Passkey sign-in (WebAuthn): the options, then the signed assertion. */
  passkeyLoginOptions: '/api/passkeys/login/options',
  passkeyLogin: '/api/passkeys/login',
  /** The second step's passkey options, for an `mfa_token`. */
  loginMfaPasskeyOptions: '/api/login/mfa/passkey-options',
  logout: '/api/logout',
  logoutAll: '/api/logout-all',
  refresh: '/api/token/refresh',
  /** Cookie mode: the CSRF token of the session whose refresh cookie comes with the request. */
  refreshCsrf: '/api/token/refresh/csrf',
  renew: '/api/token/renew',
  reauth: '/api/reauth',
  /** RFC 9470 step-up with a second factor, and its passkey options. */
  mfaStepUp: '/api/mfa/step-up',
  mfaStepUpPasskeyOptions: '/api/mfa/step-up/passkey-options',
  whoami: '/api/whoami',
  revocationFeed: '/api/revocations',
  revocationStream: '/api/revocations/stream',
  /** RFC 7662 introspection behind the feed's credential, for `@jot/verify`'s `strict` strategy. */
  feedIntrospection: '/api/introspect',
} as const;

/**
 * The `<meta name>`s the server puts into the web UI's `index.html` (read by the page's script; no inline script, so
 * the strict CSP stays).
 */
export const WEB_UI_META = {
  /** `refresh` or `single` (`JOT_TOKEN_MODE`): in single-token mode the page renews instead of refreshing. */
  tokenMode: 'jot-token-mode',
  /** `open`, `invite` or `closed` (`JOT_REGISTRATION`): the sign-in page offers an account only when `open`. */
  registration: 'jot-registration',
} as const;
