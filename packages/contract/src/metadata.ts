/**
 * The issuer's RFC 8414 authorization-server metadata (`/.well-known/oauth-authorization-server`), with the
 * members Jot adds for its own SDKs. `@jot/verify` discovers the JWKS, introspection and feed endpoints from it;
 * `@jot/service` the token endpoint.
 */
import type { ClientAuthMethod } from './views.js';

/** RFC 8414 §2 metadata as Jot publishes it (absolute URLs). */
export interface AuthorizationServerMetadata {
  issuer: string;
  jwks_uri: string;
  token_endpoint: string;
  token_endpoint_auth_methods_supported: ClientAuthMethod[];
  token_endpoint_auth_signing_alg_values_supported: string[];
  grant_types_supported: string[];
  /** Empty: Jot has no authorization endpoint. */
  response_types_supported: string[];
  scopes_supported: string[];
  revocation_endpoint: string;
  revocation_endpoint_auth_methods_supported: ClientAuthMethod[];
  revocation_endpoint_auth_signing_alg_values_supported: string[];
  introspection_endpoint: string;
  introspection_endpoint_auth_methods_supported: ClientAuthMethod[];
  introspection_endpoint_auth_signing_alg_values_supported: string[];
  /** RFC 9449 §5.1: the DPoP proof algorithms the token endpoint accepts. */
  dpop_signing_alg_values_supported: string[];
  /** Jot's: the algorithms of the access tokens it signs (a verifier's allow-list). */
  access_token_signing_alg_values_supported: string[];
  /** Jot's: first-party password sign-in. */
  login_endpoint: string;
  /** Jot's: the revocation feed, paged (`GET`). */
  revocation_feed_endpoint: string;
  /** Jot's: the revocation feed as Server-Sent Events. */
  revocation_stream_endpoint: string;
}
