/**
 * The standard OAuth 2 endpoints, for stock clients: `POST /oauth/token` (RFC 6749 §3.2), `POST /oauth/revoke`
 * (RFC 7009) and `POST /oauth/introspect` (RFC 7662). They take `application/x-www-form-urlencoded` bodies only
 * (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1, RFC 8693 §2.1): this scope has the form parser and no other, so a
 * JSON body is never parsed here — it is refused as the RFC's `invalid_request` — and they answer RFC 6749 §5.2
 * errors with `Cache-Control: no-store`.
 */
import type { FastifyInstance } from 'fastify';

import { toHttpError } from '../http/error-handler.js';
import { refuseOtherMethods } from '../http/allowed-methods.js';
import { asOAuthError } from '../http/oauth-errors.js';
import { addFormParser, refuseOtherMediaTypes } from '../http/oauth-form.js';
import { oauthIntrospectRoutes } from './oauth-introspect.js';
import { oauthRevokeRoutes } from './oauth-revoke.js';
import { OAUTH_PATHS } from './oauth-client.js';
import { oauthTokenRoutes } from './oauth-token/index.js';

/** Registers the OAuth endpoints. */
export async function oauthPlugin(app: FastifyInstance): Promise<void> {
  // Form bodies only, in this scope: the JSON parser the rest of the API has is dropped here, and every other media
  // type (JSON, text/plain, none with a body) is a 400 invalid_request saying what to send, before any credential is
  // looked at. JOT_BODY_LIMIT, like every other body: over it, 413 ERR_BODY_TOO_LARGE (as invalid_request, below).
  app.removeAllContentTypeParsers();
  addFormParser(app, app.jot.config.bodyLimitBytes);
  refuseOtherMediaTypes(app);
  app.addHook('onSend', async (_request, reply) => {
    reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
  });
  // RFC 6749 §5.2 statuses first, then the server's one error handler for the body and the log line.
  const inherited = app.errorHandler;
  app.setErrorHandler((error, request, reply) => inherited(asOAuthError(toHttpError(error)), request, reply));
  await app.register(oauthTokenRoutes);
  await app.register(oauthRevokeRoutes);
  await app.register(oauthIntrospectRoutes);
  // Every endpoint takes POST only (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1): another method is a 405 with
  // `Allow`, in the endpoints' JSON error shape — not the web UI's page, which the catch-all GET would serve.
  for (const url of Object.values(OAUTH_PATHS)) refuseOtherMethods(app, url, ['POST']);
}
