/**
 * The shape every grant of the token endpoint shares: an authenticated client and the request's parameters in, an
 * RFC 6749 §5.1 response out. Each grant lives in its own file; checks that apply to all of them happen at the
 * endpoint, before the dispatch. The DPoP proof (RFC 9449 §5) comes as a check each grant runs where it fits: the
 * refresh grant against the session's bound key, before the refresh token is spent; the others before issuing.
 */
import type { OAuthTokenResponse, TokenType } from '@jot/contract';

import type { Clock } from '../../clock.js';
import type { Config } from '../../config/index.js';
import type { OAuthClient } from '../../store/index.js';
import type { Metrics } from '../metrics.js';
import type { ClientInfo, DPoPProofCheck, SessionService } from '../sessions.js';
import type { TokenStatus } from '../token-status.js';
import type { TokenService } from '../tokens.js';

/** An OAuth request's parameters (parsed by `http/oauth-form.ts`): each once; undefined members were not sent. */
export type OAuthForm = Readonly<Record<string, string | undefined>>;

/** The services a grant uses (the server's `ServerContext` is one). */
export interface GrantServices {
  readonly config: Config;
  readonly clock: Clock;
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly tokenStatus: TokenStatus;
  readonly metrics: Metrics;
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
export type GrantHandler = (request: GrantRequest, jot: GrantServices) => Promise<OAuthTokenResponse>;
