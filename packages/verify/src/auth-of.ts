/** Typed access to the `auth` an adapter put on a request (Express, Fastify, `node:http`). */
import { VerifyError } from './errors.js';
import type { VerifiedAuth } from './types.js';

/**
 * The auth context of a request that passed the middleware; throws `ERR_AUTH_REQUIRED` if it did not (a route
 * mounted without the middleware is a bug that must not look like an anonymous request).
 *
 * @example
 * app.get('/me', (request) => ({ sub: authOf(request).claims.sub }));
 */
export function authOf(request: object): VerifiedAuth {
  const auth = (request as { auth?: unknown }).auth;
  if (typeof auth !== 'object' || auth === null) {
    throw new VerifyError('ERR_AUTH_REQUIRED', 'this endpoint requires an access token', {
      reason: 'no_middleware',
    });
  }
  return auth as VerifiedAuth;
}
