/**
 * Request authentication for the server's own protected routes: the access token from `Authorization: Bearer`, or
 * else from the HttpOnly access cookie, is verified (signature, `typ`, issuer, audience, times) and then checked
 * against every kind of revocation, on every request. A request authenticated by cookie with an unsafe method must
 * carry `X-Csrf-Token` matching the token's `cth` claim (403 `ERR_CSRF` otherwise); Bearer requests need none,
 * since a browser never attaches them by itself. A DPoP-bound token (`cnf.jkt`) must come as `Authorization: DPoP`
 * with a proof from its key (RFC 9449 §7; see http/dpop-proof.ts). Failures are RFC 6750 / RFC 9449 401s with a
 * stable `code`.
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import { HEADERS } from '@jot/contract';
import { isJoseError } from '@jot/jose';

import type { AuthContext } from '../context.js';
import { accessCookie } from '../http/cookies.js';
import { csrfRejected } from '../http/csrf-events.js';
import { forbidden, unauthorized } from '../http/errors.js';
import { checkStepUp, enforceMfaPolicy } from './step-up.js';
import { resourceProof } from '../http/dpop-proof.js';

/** The token in an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/** The scheme and token of an `Authorization: DPoP <token>` header (RFC 9449 §7.1), or undefined. */
export function dpopToken(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const match = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(header);
  return match?.[1];
}

/**
 * Verifies a raw access token (decrypted first when it is a JWE; signature, `typ`, issuer, audience, times);
 * throws a 401 `HttpError`.
 */
async function verifyToken(
  request: FastifyRequest,
  token: string,
  via: AuthContext['via'],
): Promise<AuthContext> {
  const { tokens } = request.server.jot;
  try {
    const jws = await tokens.open(token);
    return { claims: await tokens.fresh(() => tokens.verify(jws)), token, via };
  } catch (err) {
    if (isJoseError(err)) throw unauthorized(err.code, `the access token is not valid: ${err.message}`);
    throw err;
  }
}

/** Verifies a raw access token and applies the revocation checks; throws a 401 `HttpError`. */
export async function authenticateToken(
  request: FastifyRequest,
  token: string,
  via: AuthContext['via'],
): Promise<AuthContext> {
  const auth = await verifyToken(request, token, via);
  await request.server.jot.revocations.check(auth.claims);
  return auth;
}

/** Methods that must not change state (RFC 9110 §9.2.1); all others need the CSRF header under cookies. */
const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * The request's access token (Bearer or DPoP, else the access cookie), verified but not yet checked for
 * revocation; a DPoP-bound token needs its proof; a cookie on an unsafe method must come with the session's
 * `X-Csrf-Token`.
 */
export async function verifiedCredential(request: FastifyRequest): Promise<AuthContext> {
  const header = request.headers.authorization;
  const bearer = bearerToken(header);
  const dpop = bearer === undefined ? dpopToken(header) : undefined;
  const token = bearer ?? dpop;
  if (token !== undefined) {
    const auth = await verifyToken(request, token, dpop === undefined ? 'bearer' : 'dpop');
    await resourceProof(request, token, dpop === undefined ? 'bearer' : 'dpop', auth.claims.cnf?.jkt);
    return auth;
  }
  if (header !== undefined) {
    throw unauthorized(
      'ERR_AUTH_REQUIRED',
      'the Authorization header must be "Bearer <token>" or "DPoP <token>"',
    );
  }
  const cookie = accessCookie(request);
  if (cookie === undefined) {
    throw unauthorized('ERR_AUTH_REQUIRED', 'this endpoint requires an access token', {
      noCredentials: true,
    });
  }
  const auth = await verifyToken(request, cookie, 'cookie');
  // A bound token is only ever sent with its proof; in a cookie it can have none (the page cannot compute ath).
  await resourceProof(request, cookie, 'bearer', auth.claims.cnf?.jkt);
  const presented = request.headers[HEADERS.csrf];
  const csrfOk = request.server.jot.csrf.matchesClaim(
    auth.claims.cth,
    typeof presented === 'string' ? presented : undefined,
  );
  if (!SAFE_METHODS.has(request.method) && !csrfOk) {
    throw csrfRejected('this request needs the X-Csrf-Token header of your session', {
      userId: auth.claims.sub,
      sessionId: auth.claims.sid,
    });
  }
  return auth;
}

/** Pre-handler: requires a valid, unrevoked access token (Bearer, else the access cookie) and sets `request.auth`. */
export const authenticate: preHandlerAsyncHookHandler = async function authenticate(
  request: FastifyRequest,
  _reply: FastifyReply,
): Promise<void> {
  const auth = await verifiedCredential(request);
  const { user } = await request.server.jot.revocations.check(auth.claims);
  request.auth = { ...auth, user };
  await enforceMfaPolicy(request, false);
};

/** Pre-handler: `authenticate`, then requires `role` among the token's roles. */
export function requireRole(role: string): preHandlerAsyncHookHandler {
  return async function requireRoleHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await authenticate.call(this, request, reply);
    if (!request.auth?.claims.roles.includes(role))
      throw forbidden(`this action requires the "${role}" role`, role);
    if (role === 'admin') await enforceMfaPolicy(request, true);
  };
}

/** The authenticated context of a request that passed `authenticate`. */
export function authOf(request: FastifyRequest): AuthContext {
  // Reaching here without `authenticate` is a bug in the route, not a client error: fail loudly (500, logged).
  if (request.auth === undefined)
    throw new Error(`route ${request.routeOptions.url ?? ''} has no authenticate pre-handler`);
  return request.auth;
}

/**
 * Pre-handler: `requireRole(role)` (or just `authenticate` without a role), then an authentication no older than
 * `JOT_STEP_UP_MAX_AGE` — multi-factor when the user has a second factor (RFC 9470 step-up) — for actions whose
 * misuse by a stolen token would hurt most.
 */
export function requireRecentAuth(role?: string): preHandlerAsyncHookHandler {
  const first = role === undefined ? authenticate : requireRole(role);
  return async function requireRecentAuthHandler(
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<void> {
    await first.call(this, request, reply);
    await checkStepUp(request, { always: true });
  };
}

/** Pre-handler: `authenticate`, then step-up as for `requireRecentAuth` (`always: false`: only users with MFA). */
export function requireStepUp(options: { always: boolean }): preHandlerAsyncHookHandler {
  return async function requireStepUpHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    await authenticate.call(this, request, reply);
    await checkStepUp(request, options);
  };
}
