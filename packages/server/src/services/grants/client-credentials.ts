/**
 * `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client gets a token for itself — `sub` and
 * `client_id` are its id, `scope` what it asked for within its registered scopes, `aud` the registered audience it
 * named (RFC 8707 `resource` or `audience`). No refresh token (§4.4.3). Lifetime: the client's, else the server's.
 * With a DPoP proof the token is bound to the proof's key (`cnf.jkt`, `token_type: DPoP`); for an audience that
 * registered an encryption key it is encrypted (nested JWT).
 */
import { scopeText } from '../scopes.js';
import { chooseAudience, chooseScopes } from './targets.js';
import { tokenTypeOf, type GrantHandler } from './types.js';

/** The client-credentials grant. */
export const clientCredentialsGrant: GrantHandler = async ({ client, form, targets, dpop }, jot) => {
  const audience = chooseAudience(client, targets);
  const scope = scopeText(chooseScopes(form.scope, client.scopes));
  const ttlMs = client.tokenTtlMs ?? jot.config.accessTokenTtlMs;
  const dpopJkt = await dpop(null);
  const issued = await jot.tokens.seal(
    await jot.tokens.issueForClient({
      clientId: client.clientId,
      scope,
      audience,
      ttlSeconds: Math.max(1, Math.floor(ttlMs / 1000)),
      ...(dpopJkt === undefined ? {} : { dpopJkt }),
    }),
  );
  const response = {
    access_token: issued.token,
    token_type: tokenTypeOf(issued.claims),
    expires_in: issued.expiresIn,
  };
  return scope === undefined ? response : { ...response, scope };
};
