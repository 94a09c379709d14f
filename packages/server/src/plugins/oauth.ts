/**
 * The standard OAuth 2 endpoints, for stock clients: `POST /oauth/token` (RFC 6749 §3.2), `POST /oauth/revoke`
 * (RFC 7009) and `POST /oauth/introspect` (RFC 7662). They take `application/x-www-form-urlencoded` bodies (a
 * parser registered here, for these routes only) and answer RFC 6749 §5.2 errors with `Cache-Control: no-store`.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

import { clientInfo } from '../http/client-info.js';
import { asOAuthError } from '../http/oauth-errors.js';
import { addFormParser, type OAuthForm } from '../http/oauth-form.js';
import type { AssertionDeps } from '../services/client-assertion.js';
import { authenticateClient, type AuthenticatedClient } from '../services/client-auth.js';
import { oauthIntrospectRoutes } from './oauth-introspect.js';
import { oauthRevokeRoutes } from './oauth-revoke.js';
import { oauthTokenRoutes } from './oauth-token.js';

/** Paths of the OAuth endpoints. */
export const OAUTH_PATHS = {
  token: '/oauth/token',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
} as const;

/** Form-body size limit of the OAuth endpoints (an assertion is at most 8 KiB; a subject token likewise). */
const FORM_LIMIT = 32 * 1024;

/** The issuer-relative URL of an endpoint. */
export function endpointUrl(issuer: string, path: string): string {
  return `${issuer.replace(/\/+$/, '')}${path}`;
}

/** Authenticates the client of an OAuth request: an assertion's `aud` may be the issuer or this endpoint. */
export function clientOf(
  request: FastifyRequest,
  form: OAuthForm,
  path: string,
): Promise<AuthenticatedClient | undefined> {
  const { config, store, clientKeys, clients, clock } = request.server.jot;
  const deps: AssertionDeps = {
    store,
    keys: clientKeys,
    openSecret: (client) => clients.openSecret(client),
    clock,
    maxLifetimeMs: config.clientAssertionMaxLifetimeMs,
    clockToleranceSeconds: Math.floor(config.clockToleranceMs / 1000),
  };
  const audiences = [config.issuer, endpointUrl(config.issuer, path)];
  if (path !== OAUTH_PATHS.token) audiences.push(endpointUrl(config.issuer, OAUTH_PATHS.token));
  return authenticateClient(deps, { authorization: request.headers.authorization, form }, audiences);
}

export { clientInfo };

/** Registers the OAuth endpoints. */
export async function oauthPlugin(app: FastifyInstance): Promise<void> {
  addFormParser(app, FORM_LIMIT);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });
  // RFC 6749 §5.2 statuses first, then the server's one error handler for the body and the log line.
  const inherited = app.errorHandler;
  app.setErrorHandler((error, request, reply) => inherited(asOAuthError(error), request, reply));
  await app.register(oauthTokenRoutes);
  await app.register(oauthRevokeRoutes);
  await app.register(oauthIntrospectRoutes);
}
