/**
 * Which access tokens a client may introspect (RFC 7662 §4: the server decides which protected resources may
 * introspect which tokens). A client registered with `own` — every new one — learns only about tokens issued to it
 * (the RFC 9068 `client_id`) or naming it in `aud`, the tokens it could read or is meant to accept anyway; `any` is
 * for a resource server that authenticates as a client. The endpoint answers any other token `{"active": false}`
 * (§2.2), exactly as a dead one, so the answer does not reveal that a foreign token is live — nor, for an encrypted
 * token, claims its caller could not read.
 */
import type { ClientBoundClaims } from './tokens.js';
import type { OAuthClient } from '../store/index.js';

/** Whether `client` may see the claims of the live access token `claims`. */
export function mayIntrospect(
  client: Pick<OAuthClient, 'clientId' | 'introspection'>,
  claims: Pick<ClientBoundClaims, 'client_id' | 'aud'>,
): boolean {
  if (client.introspection === 'any') return true;
  if (claims.client_id === client.clientId) return true;
  return typeof claims.aud === 'string'
    ? claims.aud === client.clientId
    : claims.aud.includes(client.clientId);
}
