/**
 * The shape every grant of the token endpoint shares: an authenticated client and the request's parameters in, an
 * RFC 6749 §5.1 response out. Each grant lives in its own file; checks that apply to all of them happen at the
 * endpoint, before the dispatch. The DPoP proof (RFC 9449 §5) comes as a check each grant runs where it fits: the
 * refresh grant against the session's bound key, before the refresh token is spent; the others before issuing.
 */
import type { OAuthTokenResponse, TokenType } from '@jot/contract';

import type { ServerContext } from '../../context.js';
import type { OAuthForm } from '../../http/oauth-form.js';
import type { OAuthClient } from '../../store/index.js';
import type { ClientInfo, DPoPProofCheck } from '../sessions.js';

/** A token request after client authentication. */
export interface GrantRequest {
  client: OAuthClient;
  /** Every parameter, each once. */
  form: OAuthForm;
  /** `resource` (RFC 8707) and `audience` (RFC 8693) values, which may repeat. */
  targets: readonly string[];
  /** Request facts for the session records. */
  clientInfo: ClientInfo;
  /**
   * The request's DPoP proof checked against a bound key (null: none bound): resolves to the proof key's
   * thumbprint, or undefined when no proof came and none is required; throws the RFC 9449 §5 refusal.
   */
  dpop: DPoPProofCheck;
}

/** `DPoP` for a token bound to a key (`cnf.jkt`), else `Bearer`. */
export function tokenTypeOf(claims: object): TokenType {
  return 'cnf' in claims && claims.cnf !== undefined ? 'DPoP' : 'Bearer';
}

/** One grant type's handler. */
export type GrantHandler = (request: GrantRequest, jot: ServerContext) => Promise<OAuthTokenResponse>;
