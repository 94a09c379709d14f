/**
 * `POST /oauth/introspect` (RFC 7662). Callers: an OAuth client authenticating as at the token endpoint (Basic,
 * `private_key_jwt`, …), or a resource server with `Authorization: Bearer <JOT_REVOCATION_SECRET>` (or an admin's
 * token). A resource server may introspect any access token; a confidential client those its `introspection` policy
 * allows (services/introspection-policy.ts: `own` — issued to it or naming it in `aud` — or `any`), and any other
 * answers `active: false`, as a dead token does; a public client none (its `client_id` is no credential: RFC 7662
 * §2.1), only its own refresh tokens. A refresh token is introspectable only by the client it was issued to (anyone
 * else learns `active: false`). Failed client authentications are limited per address (counted per client id too),
 * calls per caller (plugins/caller-limits.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

import { callerLimits, claimedClientId } from './caller-limits.js';
import { admitFeedCaller, feedCredential } from './feed-credential.js';
import {
  accessTokenIntrospection,
  INTROSPECTION_RESPONSE_SCHEMA,
  refreshTokenIntrospection,
  type IntrospectionResponse,
} from '../http/introspection.js';
import { toHttpError } from '../http/error-handler.js';
import { asProtectedResourceError, invalidClient } from '../http/oauth-errors.js';
import { TOKEN_FORM_BODY, oauthForm, required } from '../http/oauth-form.js';
import { mayIntrospect } from '../services/introspection-policy.js';
import { liveRefreshToken } from '../services/refresh-token-introspection.js';
import type { OAuthClient } from '../store/index.js';
import { clientOf, OAUTH_PATHS } from './oauth-client.js';

const INACTIVE: IntrospectionResponse = { active: false };

const INTROSPECT_SCHEMA = {
  formBody: TOKEN_FORM_BODY,
  tags: ['oauth'],
  summary: 'RFC 7662 introspection (form-encoded): is this access or refresh token active, and its claims.',
  description:
    'Client authentication as at /oauth/token, or Authorization: Bearer <JOT_REVOCATION_SECRET>. ' +
    'Access tokens answer token_type "Bearer". A client registered with introspection "own" (the default) ' +
    'learns only about access tokens issued to it or naming it in aud; any other answers {"active": false}.',
  response: {
    200: INTROSPECTION_RESPONSE_SCHEMA,
    400: { $ref: 'JotError#' },
    401: { $ref: 'JotError#' },
    429: { $ref: 'JotError#' },
  },
};

/** The calling client, or undefined for a resource server (secret or admin token). */
async function caller(
  app: FastifyInstance,
  resourceServer: ReturnType<typeof feedCredential>,
  request: FastifyRequest,
  reply: FastifyReply,
  form: ReturnType<typeof oauthForm>,
): Promise<OAuthClient | undefined> {
  const limits = callerLimits(app);
  if (/^Bearer /i.test(request.headers.authorization ?? '')) {
    try {
      await resourceServer.call(app, request, reply);
    } catch (err) {
      // RFC 7662 §2.3: an invalid or insufficient bearer token is a 401 as RFC 6750 §3 describes.
      throw asProtectedResourceError(toHttpError(err));
    }
    await admitFeedCaller(request);
    return undefined;
  }
  const claimed = claimedClientId(request.headers.authorization, form);
  const authenticated = await limits.authenticate(request, claimed, () =>
    clientOf(request, form, OAUTH_PATHS.introspection),
  );
  if (authenticated === undefined) {
    throw invalidClient('ERR_CLIENT_AUTH_FAILED', 'client authentication is required (RFC 7662 §2.1)');
  }
  await limits.admit(request, `client:${authenticated.client.clientId}`);
  return authenticated.client;
}

/** A refresh token's introspection: active only for the client it was issued to, on a live session. */
async function refreshToken(
  app: FastifyInstance,
  token: string,
  client: OAuthClient | undefined,
): Promise<IntrospectionResponse> {
  const live = await liveRefreshToken(app.jot, token, client?.clientId);
  if (live === undefined) return INACTIVE;
  return refreshTokenIntrospection(live.session, app.jot.config.issuer, live.scope, live.issuedAt);
}

/** Registers the introspection endpoint. */
export async function oauthIntrospectRoutes(app: FastifyInstance): Promise<void> {
  const { tokenStatus, config } = app.jot;
  const resourceServer = feedCredential(config);
  app.post(OAUTH_PATHS.introspection, { schema: INTROSPECT_SCHEMA }, async (request, reply) => {
    const form = oauthForm(request);
    const token = required(form, 'token');
    const client = await caller(app, resourceServer, request, reply, form);
    // A JWS has three segments, an encrypted token (JWE) five; anything else can only be a refresh token.
    const segments = token.split('.', 6).length;
    if (segments !== 3 && segments !== 5) return refreshToken(app, token, client);
    // RFC 7662 §2.1: introspection MUST require authorization, and a public client's `client_id` is none. Its own
    // refresh token (above) is: the same secret the token endpoint accepts from it alone (RFC 6749 §6).
    if (client?.authMethod === 'none') {
      throw invalidClient(
        'ERR_CLIENT_AUTH_FAILED',
        'introspecting an access token needs a client credential (RFC 7662 §2.1); a public client may ' +
          'introspect only its own refresh tokens',
      );
    }
    // RFC 7662 §2.2: a token not meant for this caller is `active: false`, never an error that would confirm it live
    // — decided before any revocation lookup, so neither the answer nor its time tells a live token from a revoked one.
    const claims = await tokenStatus.active(
      token,
      client === undefined ? undefined : (c) => mayIntrospect(client, c),
    );
    return accessTokenIntrospection(claims);
  });
}
