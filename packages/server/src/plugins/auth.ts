/**
 * Request authentication for the server's own protected routes. It is `@jot/verify`'s `createRequestAuth` — the
 * same code every resource server runs — with the server's own parts plugged in: its keys (`TokenService`), its
 * DPoP checker and its database revocation check. So the token comes from `Authorization: Bearer` / `DPoP`, or else
 * the HttpOnly access cookie; a DPoP-bound token needs its proof (RFC 9449 §7); a cookie on an unsafe method needs
 * the session's `X-Csrf-Token` (403 `ERR_CSRF`); every kind of revocation is checked on every request; and a
 * refusal is the same status, code and `WWW-Authenticate` challenge a resource server would answer
 * (docs/errors.md, "Request authentication").
 */
import type { FastifyReply, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';

import type { UserAccessTokenClaims } from '@jot/contract';
import {
  compileGuards,
  createRequestAuth,
  parseAuthorization,
  isVerifyError,
  requestDPoP,
  type CompiledGuards,
  type RequestDPoP,
  type RequestAuth,
  type RequestAuthResult,
} from '@jot/verify';

import type { AuthContext, ServerContext } from '../context.js';
import { accessCookieName } from '../http/cookies.js';
import { csrfRejected } from '../http/csrf-events.js';
import { requestUrl } from '../http/dpop-proof.js';
import { fromVerifyError, type HttpError } from '../http/errors.js';
import type { User } from '../store/index.js';
import { checkStepUp, enforceMfaPolicy } from './step-up.js';

/** The token in an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined (another scheme, malformed). */
export function bearerToken(header: string | undefined): string | undefined {
  try {
    const found = parseAuthorization(header);
    return found?.via === 'bearer' ? found.token : undefined;
  } catch {
    return undefined;
  }
}

const authenticators = new WeakMap<ServerContext, RequestAuth<UserAccessTokenClaims>>();
const dpopSteps = new WeakMap<ServerContext, RequestDPoP>();
/** The user row each request's revocation check read, put on `request.auth` so a route need not read it again. */
const checkedUsers = new WeakMap<object, User>();

/** Verifies a raw access token: opened first when it is a JWE; signature, `typ`, issuer, audience, times. */
async function verifyAccessToken(jot: ServerContext, token: string): Promise<UserAccessTokenClaims> {
  const jws = await jot.tokens.open(token);
  return jot.tokens.fresh(() => jot.tokens.verify(jws));
}

/** The DPoP step over the server's own checker (the one its token endpoints use), per server context. */
function dpopStepOf(jot: ServerContext): RequestDPoP {
  let step = dpopSteps.get(jot);
  if (step === undefined) {
    step = requestDPoP(jot.dpop, { url: (request) => requestUrl(request as FastifyRequest) });
    dpopSteps.set(jot, step);
  }
  return step;
}

/** The server's request authenticator (one per server context). */
function requestAuthOf(jot: ServerContext): RequestAuth<UserAccessTokenClaims> {
  let auth = authenticators.get(jot);
  if (auth === undefined) {
    auth = createRequestAuth<UserAccessTokenClaims>({
      verifyToken: (token) => verifyAccessToken(jot, token),
      checkRevocation: async (claims, _token, request) => {
        const { user } = await jot.revocations.check(claims);
        checkedUsers.set(request, user);
      },
      dpop: dpopStepOf(jot),
      cookieNames: (request) => [accessCookieName(request as FastifyRequest)],
      clock: jot.clock,
      // Protected routes accept DPoP-bound tokens: a request without credentials is offered both schemes (RFC 9449 §7.1).
      dpopAlgs: jot.dpop.algorithms.join(' '),
      // A failing database or Redis reaches the server's error handler: 503 ERR_UNAVAILABLE, its cause logged.
      onFailure: (err) => {
        throw err;
      },
    });
    authenticators.set(jot, auth);
  }
  return auth;
}

/** A refusal as the `HttpError` the error handler answers; a CSRF refusal carries whom it claimed to be. */
function refusal(result: Extract<RequestAuthResult<UserAccessTokenClaims>, { ok: false }>): HttpError {
  if (result.error.code === 'ERR_CSRF') {
    return csrfRejected(result.error, { userId: result.claims?.sub, sessionId: result.claims?.sid });
  }
  return fromVerifyError(result.error, { response: result.response });
}

/** Authenticates the request (with `guards`), or throws the refusal. */
async function run(
  request: FastifyRequest,
  guards?: CompiledGuards,
  options?: { revocation?: boolean },
): Promise<AuthContext> {
  const result = await requestAuthOf(request.server.jot).authenticate(request, guards, options);
  if (!result.ok) throw refusal(result);
  const user = checkedUsers.get(request);
  return user === undefined ? result.auth : { ...result.auth, user };
}

/**
 * Verifies a raw access token presented `via` a scheme (the revocation feed's Bearer credential), its DPoP binding
 * (a bound token is never accepted as Bearer) and every revocation; throws a 401 `HttpError`.
 */
export async function authenticateToken(
  request: FastifyRequest,
  token: string,
  via: AuthContext['via'],
): Promise<AuthContext> {
  const claims = await verifyAccessToken(request.server.jot, token);
  try {
    await dpopStepOf(request.server.jot).check(request, token, via, claims);
  } catch (err) {
    if (isVerifyError(err)) throw fromVerifyError(err);
    throw err;
  }
  const { user } = await request.server.jot.revocations.check(claims);
  return { claims, token, via, user };
}

/**
 * The server's own routes (account, sessions, renewal, admin) are the user's own: a token a service obtained by
 * token exchange (`act`, RFC 8693) is refused with 403 `ERR_FORBIDDEN`. Such a token reaches the server when
 * `JOT_AUDIENCE` lists an audience a client may exchange tokens for; it carries the user's `sid`, so it would
 * otherwise end the user's sessions or renew into the user's full token. It carries no roles (the exchange drops
 * them), and an admin route refuses it for its `act` as well: whatever its roles, a delegated token is no admin.
 */
const ownToken = compileGuards({ actors: false });

/**
 * The request's access token, verified — DPoP proof and CSRF header included — but not checked for revocation (a
 * single-token renewal claims the `jti` first, to tell a second use from a plain revocation). A delegated token
 * is refused, as on every route here.
 */
export async function verifiedCredential(request: FastifyRequest): Promise<AuthContext> {
  return run(request, ownToken, { revocation: false });
}

/**
 * The user a request's access token names, when it carries one that passes every check of a protected route (the
 * token, its DPoP proof, CSRF for a cookie, revocation; a delegated token is refused); undefined otherwise — no
 * credential, or one refused for whatever reason. For an anonymous route that asks less of a signed-in caller (an
 * identity proof, never a gate): there a refused credential is no error, the route asks for its other proof. Two
 * refusals still propagate: a failing dependency (the database, Redis), and a DPoP proof without the server's nonce
 * (`use_dpop_nonce`, `JOT_DPOP_NONCE`), whose answer carries the `DPoP-Nonce` header the client retries with. The
 * check reads the revocations and spends the DPoP proof's `jti`: call it only when the answer matters.
 */
export async function signedInUserId(request: FastifyRequest): Promise<string | undefined> {
  const result = await requestAuthOf(request.server.jot).authenticate(request, ownToken);
  if (result.ok) return result.auth.claims.sub;
  if (result.error.code === 'ERR_DPOP_NONCE_REQUIRED') throw refusal(result);
  return undefined;
}

/** Pre-handler: requires a valid, unrevoked access token (Bearer, else the access cookie) and sets `request.auth`. */
export const authenticate: preHandlerAsyncHookHandler = async function authenticate(
  request: FastifyRequest,
  _reply: FastifyReply,
): Promise<void> {
  request.auth = await run(request, ownToken);
  await enforceMfaPolicy(request, false);
};

/** Pre-handler: `authenticate`, then requires `role` among the token's roles (403 `ERR_FORBIDDEN`). */
export function requireRole(role: string): preHandlerAsyncHookHandler {
  const guards = compileGuards({ roles: [role], actors: false });
  return async function requireRoleHandler(request: FastifyRequest): Promise<void> {
    request.auth = await run(request, guards);
    await enforceMfaPolicy(request, role === 'admin');
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
