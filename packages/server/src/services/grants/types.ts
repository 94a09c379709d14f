/**
 * The shape every grant of the token endpoint shares: an authenticated client and the request's parameters in, an
 * RFC 6749 §5.1 response out. Each grant lives in its own file, so a check that applies to all of them (a DPoP
 * proof, say) slots in at the endpoint, before the dispatch, and a grant-specific one in that grant's file.
 */
import type { ServerContext } from '../../context.js';
import type { OAuthForm } from '../../http/oauth-form.js';
import type { OAuthClient } from '../../store/index.js';
import type { ClientInfo } from '../sessions.js';

/** RFC 6749 §5.1 (and RFC 8693 §2.2.1) successful response. */
export interface TokenEndpointResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope?: string;
  refresh_token?: string;
  issued_token_type?: string;
}

/** A token request after client authentication. */
export interface GrantRequest {
  client: OAuthClient;
  /** Every parameter, each once. */
  form: OAuthForm;
  /** `resource` (RFC 8707) and `audience` (RFC 8693) values, which may repeat. */
  targets: readonly string[];
  /** Request facts for the session records. */
  clientInfo: ClientInfo;
}

/** One grant type's handler. */
export type GrantHandler = (request: GrantRequest, jot: ServerContext) => Promise<TokenEndpointResponse>;
