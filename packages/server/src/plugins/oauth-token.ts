/**
 * `POST /oauth/token` (RFC 6749 §3.2): authenticate the client, check it may use the grant, dispatch to the grant's
 * handler (services/grants/), answer RFC 6749 §5.1. The grants: `refresh_token`, `client_credentials` and token
 * exchange (RFC 8693). A `DPoP` proof (RFC 9449 §5) binds what is issued to its key; refusals are 400
 * `invalid_dpop_proof`, or `use_dpop_nonce` with a `DPoP-Nonce` header when server nonces are on.
 */
import type { FastifyInstance } from 'fastify';

import { OAUTH_URIS } from '@jot/contract';

import { clientInfo } from '../http/client-info.js';
import { tokenEndpointProof } from '../http/dpop-proof.js';
import { invalidClient, oauthError } from '../http/oauth-errors.js';
import { CLIENT_AUTH_FORM_FIELDS, formTargets, oauthForm, required } from '../http/oauth-form.js';
import { authRateLimit } from '../http/rate-limit.js';
import { clientCredentialsGrant } from '../services/grants/client-credentials.js';
import { refreshTokenGrant } from '../services/grants/refresh-token.js';
import { tokenExchangeGrant } from '../services/grants/token-exchange.js';
import type { GrantHandler } from '../services/grants/types.js';
import type { OAuthClient } from '../store/index.js';
import { clientOf, OAUTH_PATHS } from './oauth-client.js';

const GRANTS: ReadonlyMap<string, GrantHandler> = new Map([
  ['refresh_token', refreshTokenGrant],
  ['client_credentials', clientCredentialsGrant],
  [OAUTH_URIS.tokenExchangeGrant, tokenExchangeGrant],
]);

/**
 * Whether the client must send a DPoP proof: its registered policy (RFC 9449 §5.2 `dpop_bound_access_tokens`); the
 * first-party client follows `JOT_DPOP`, as at sign-in and `/api/token/refresh`.
 */
function dpopRequired(client: OAuthClient, serverPolicy: 'optional' | 'required'): boolean {
  return client.dpop === 'required' || (client.firstParty && serverPolicy === 'required');
}

/** Registers the token endpoint. */
export async function oauthTokenRoutes(app: FastifyInstance): Promise<void> {
  const { config } = app.jot;
  app.post(
    OAUTH_PATHS.token,
    {
      config: { rateLimit: authRateLimit(config) },
      schema: {
        formBody: {
          type: 'object',
          required: ['grant_type'],
          properties: {
            grant_type: {
              type: 'string',
              description:
                'refresh_token | client_credentials | urn:ietf:params:oauth:grant-type:token-exchange',
            },
            refresh_token: { type: 'string', description: 'refresh_token grant' },
            scope: { type: 'string', description: 'space-separated; narrower only' },
            resource: { type: 'string', description: 'RFC 8707 audience; may repeat' },
            audience: { type: 'string', description: 'RFC 8693 audience; may repeat' },
            subject_token: { type: 'string', description: 'token exchange: the user access token' },
            subject_token_type: {
              type: 'string',
              description: 'urn:ietf:params:oauth:token-type:access_token',
            },
            requested_token_type: {
              type: 'string',
              description: 'urn:ietf:params:oauth:token-type:access_token',
            },
            ...CLIENT_AUTH_FORM_FIELDS,
          },
        },
        tags: ['oauth'],
        summary:
          'OAuth 2 token endpoint (form-encoded): refresh_token, client_credentials and token exchange (RFC 8693).',
        description:
          'Client authentication: client_secret_basic, client_secret_post, private_key_jwt, client_secret_jwt ' +
          '(RFC 7523), or client_id alone for the public first-party client. Errors follow RFC 6749 §5.2. ' +
          'A DPoP header (RFC 9449) binds the access token (token_type "DPoP") and a refresh-token family to ' +
          "the proof's key; refusals are invalid_dpop_proof, or use_dpop_nonce with a DPoP-Nonce header.",
        response: {
          200: {
            type: 'object',
            required: ['access_token', 'token_type', 'expires_in'],
            properties: {
              access_token: { type: 'string' },
              token_type: { type: 'string', enum: ['Bearer', 'DPoP'] },
              expires_in: { type: 'integer' },
              scope: { type: 'string' },
              refresh_token: { type: 'string' },
              issued_token_type: { type: 'string' },
            },
          },
          400: { $ref: 'JotError#' },
          401: { $ref: 'JotError#' },
        },
      },
    },
    async (request, reply) => {
      const form = oauthForm(request);
      const grantType = required(form, 'grant_type');
      const authenticated = await clientOf(request, form, OAUTH_PATHS.token);
      if (authenticated === undefined) {
        throw invalidClient('ERR_CLIENT_AUTH_FAILED', 'client authentication is required (RFC 6749 §2.3)');
      }
      const grant = GRANTS.get(grantType);
      if (grant === undefined) {
        throw oauthError(
          'unsupported_grant_type',
          'ERR_GRANT_UNSUPPORTED',
          `the grant type "${grantType}" is not supported`,
        );
      }
      const { client } = authenticated;
      if (!client.grantTypes.includes(grantType)) {
        throw oauthError(
          'unauthorized_client',
          'ERR_GRANT_NOT_ALLOWED',
          `client "${client.clientId}" may not use ${grantType}`,
        );
      }
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
