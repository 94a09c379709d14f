/**
 * `POST /oauth/token` (RFC 6749 §3.2): authenticate the client, check it may use the grant, dispatch to the grant's
 * handler (services/grants/), answer RFC 6749 §5.1. The grants: `refresh_token`, `client_credentials` and token
 * exchange (RFC 8693). A `DPoP` proof (RFC 9449 §5) binds what is issued to its key; refusals are 400
 * `invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce` header when server nonces are on.
 */
import type { FastifyInstance } from 'fastify';

import { clientInfo } from '../../http/client-info.js';
import { tokenEndpointProof } from '../../http/dpop-proof.js';
import { invalidClient } from '../../http/oauth-errors.js';
import { formTargets, oauthForm, required } from '../../http/oauth-form.js';
import { authRateLimit } from '../../http/rate-limit.js';
import { clientOf, OAUTH_PATHS } from '../oauth-client.js';
import { dpopRequired } from './dpop-policy.js';
import { grantFor } from './grants.js';
import { TOKEN_SCHEMA } from './schema.js';

/** Registers the token endpoint. */
export async function oauthTokenRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.jot;
  app.post(
    OAUTH_PATHS.token,
    { config: { rateLimit: authRateLimit(config) }, schema: TOKEN_SCHEMA },
    async (request, reply) => {
      const form = oauthForm(request);
      const grantType = required(form, 'grant_type');
      const authenticated = await clientOf(request, form, OAUTH_PATHS.token);
      if (authenticated === undefined) {
        throw invalidClient('ERR_CLIENT_AUTH_FAILED', 'client authentication is required (RFC 6749 §2.3)');
      }
      const { client } = authenticated;
      const grant = grantFor(client, grantType);
      return grant(
        {
          client,
          form,
          targets: formTargets(request),
          clientInfo: clientInfo(request),
          dpop: (boundJkt) =>
            tokenEndpointProof(request, reply, {
              boundJkt,
              required: dpopRequired(client, config.dpop),
            }),
        },
        app.jot,
      );
    },
  );
}
