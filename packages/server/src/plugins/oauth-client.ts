/** What the OAuth endpoints share: their paths, and how a request's client is authenticated. */
import type { FastifyRequest } from 'fastify';

import type { AssertionDeps } from '../services/client-assertion.js';
import { authenticateClient, type AuthenticatedClient } from '../services/client-auth.js';
import type { OAuthForm } from '../services/grants/types.js';

/** Paths of the OAuth endpoints. */
export const OAUTH_PATHS = {
  token: '/oauth/token',
  revocation: '/oauth/revoke',
  introspection: '/oauth/introspect',
} as const;

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
