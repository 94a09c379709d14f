/**
 * Which grant handler serves a token request (services/grants/): the grant must be one Jot supports (RFC 6749 §5.2
 * `unsupported_grant_type`) and one the client is registered for (`unauthorized_client`).
 */
import { OAUTH_URIS } from '@jot/contract';

import { oauthError } from '../../http/oauth-errors.js';
import { clientCredentialsGrant } from '../../services/grants/client-credentials.js';
import { refreshTokenGrant } from '../../services/grants/refresh-token.js';
import { tokenExchangeGrant } from '../../services/grants/token-exchange.js';
import { echoed } from '../../services/echoed.js';
import type { GrantHandler } from '../../services/grants/types.js';
import type { OAuthClient } from '../../store/index.js';

const GRANTS: ReadonlyMap<string, GrantHandler> = new Map([
  ['refresh_token', refreshTokenGrant],
  ['client_credentials', clientCredentialsGrant],
  [OAUTH_URIS.tokenExchangeGrant, tokenExchangeGrant],
]);

/** The handler of `grantType` for `client`, or the RFC 6749 §5.2 error that refuses it. */
export function grantFor(client: OAuthClient, grantType: string): GrantHandler {
  const grant = GRANTS.get(grantType);
  if (grant === undefined) {
    throw oauthError(
      'unsupported_grant_type',
      'ERR_GRANT_UNSUPPORTED',
      `the grant type "${echoed(grantType)}" is not supported`,
    );
  }
  if (!client.grantTypes.includes(grantType)) {
    throw oauthError(
      'unauthorized_client',
      'ERR_GRANT_NOT_ALLOWED',
      `client "${echoed(client.clientId)}" may not use ${echoed(grantType)}`,
    );
  }
  return grant;
}
