/** The public view of an OAuth client (`ClientView` of @jot/contract), for the admin API and `jot clients`. */
import type { ClientView } from '@jot/contract';

import type { OAuthClient } from '../store/index.js';

/** The public view of a client. */
export function clientView(client: OAuthClient): ClientView {
  const view: ClientView = {
    client_id: client.clientId,
    name: client.name,
    token_endpoint_auth_method: client.authMethod,
    grant_types: client.grantTypes,
    scopes: client.scopes,
    audiences: client.audiences,
    access_token_ttl: client.tokenTtlMs === null ? null : Math.floor(client.tokenTtlMs / 1000),
    first_party: client.firstParty,
    dpop: client.dpop,
    dpop_bound_access_tokens: client.dpop === 'required',
    introspection: client.introspection,
    created_at: new Date(client.createdAt).toISOString(),
    updated_at: new Date(client.updatedAt).toISOString(),
    secret_rotated_at:
      client.secretRotatedAt === null ? null : new Date(client.secretRotatedAt).toISOString(),
  };
  if (client.jwks !== null) view.jwks = client.jwks;
  if (client.jwksUri !== null) view.jwks_uri = client.jwksUri;
  return view;
}
