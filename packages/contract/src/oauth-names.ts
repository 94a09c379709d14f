/**
 * OAuth identifiers that the server, `@jot/service` and the web UI must spell the same: RFC 8693 token-exchange
 * grant and token types, and the RFC 7523 client-assertion type.
 */
export const OAUTH_URIS = {
  /** RFC 8693 §2.1 `grant_type`. */
  tokenExchangeGrant: 'urn:ietf:params:oauth:grant-type:token-exchange',
  /** RFC 8693 §3: an OAuth access token (`subject_token_type`, `requested_token_type`, `issued_token_type`). */
  accessTokenType: 'urn:ietf:params:oauth:token-type:access_token',
  /** RFC 8693 §3: a JWT. */
  jwtTokenType: 'urn:ietf:params:oauth:token-type:jwt',
  /** RFC 7523 §2.2 `client_assertion_type`. */
  jwtBearerAssertion: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
} as const;
