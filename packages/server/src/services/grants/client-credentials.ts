/**
 * `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets a token for itself — `sub` and
 * `client_id` are its id, `scope` what it asked for within its registered scopes, `aud` the registered audience it
 * named (RFC 8707 `resource` or `audience`). No refresh token (§4.4.3). Lifetime: the client's, else the server's.
 */
import { scopeText } from '../scopes.js';
import { chooseAudience, chooseScopes } from './targets.js';
import type { GrantHandler } from './types.js';

/** The client-credentials grant. */
export const clientCredentialsGrant: GrantHandler = async ({ client, form, targets }, jot) => {
  const audience = chooseAudience(client, targets);
  const scope = scopeText(chooseScopes(form.scope, client.scopes));
  const ttlMs = client.tokenTtlMs ?? jot.config.accessTokenTtlMs;
  const issued = jot.tokens.issueForClient({
    clientId: client.clientId,
    scope,
    audience,
    ttlSeconds: Math.max(1, Math.floor(ttlMs / 1000)),
  });
  const response = {
    access_token: issued.token,
    token_type: 'Bearer' as const,
    expires_in: issued.expiresIn,
  };
  return scope === undefined ? response : { ...response, scope };
};
