/**
 * Request authentication for the server's own protected routes: the access token from `Authorization: Bearer`
 * is verified (signature, `typ`, issuer, audience, times) and then checked against every kind of revocation, on
 * every request. Failures are RFC 6750 401s with a stable `code`.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import { isJoseError } from '@jot/jose';

import type { AuthContext } from '../context.js';
import { forbidden, unauthorized } from '../http/errors.js';

/** The token in an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/** Verifies a raw access token and applies the revocation checks; throws a 401 `HttpError`. */
export async function authenticateToken(
  request: FastifyRequest,
  token: string,
  via: AuthContext['via'],
): Promise<AuthContext> {
  const { tokens, revocations } = request.server.jot;
  let claims;
  try {
    claims = tokens.verify(token);
  } catch (err) {
    if (isJoseError(err)) throw unauthorized(err.code, `the access token is not valid: ${err.message}`);
    throw err;
  }
  await revocations.check(claims);
  return { claims, token, via };
}

/** Pre-handler: requires a valid, unrevoked access token and sets `request.auth`. */
export const authenticate: preHandlerAsyncHookHandler = async function authenticate(
  request: FastifyRequest,
  _reply: FastifyReply,
): Promise<void> {
  const header = request.headers.authorization;
  const token = bearerToken(header);
  if (token === undefined) {
    if (header !== undefined)
      throw unauthorized('ERR_AUTH_REQUIRED', 'the Authorization header must be "Bearer <token>"');
    throw unauthorized('ERR_AUTH_REQUIRED', 'this endpoint requires an access token', {
      noCredentials: true,
    });
  }
  request.auth = await authenticateToken(request, token, 'bearer');
};

/** Pre-handler: `authenticate`, then requires `role` among the token's roles. */
export function requireRole(role: string): preHandlerAsyncHookHandler {
  return async function requireRoleHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await authenticate.call(this, request, reply);
    if (!request.auth?.claims.roles.includes(role))
      throw forbidden(`this action requires the "${role}" role`, role);
  };
}

/** The authenticated context of a request that passed `authenticate`. */
export function authOf(request: FastifyRequest): AuthContext {
  if (request.auth === undefined)
    throw unauthorized('ERR_AUTH_REQUIRED', 'this endpoint requires an access token');
  return request.auth;
}
