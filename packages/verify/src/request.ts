/**
 * Request authentication, framework-free, in one place: the Jot server's own routes and every `@jot/verify` adapter
 * run this same code, so one request gets one answer wherever it is sent. The steps, in order:
 *
 * 1. the token, from `Authorization: Bearer` / `DPoP` (RFC 6750 §2.1, RFC 9449 §7.1) or else the access cookie
 *    (`token.ts`);
 * 2. its signature and claims (`verifyToken`: the verifier's JWKS, or the server's own keys);
 * 3. its DPoP binding: a bound token only as `DPoP` with a proof from its key (`dpop.ts`);
 * 4. CSRF: a cookie on an unsafe method needs the session's `X-Csrf-Token` (`csrf.ts`);
 * 5. revocation (`checkRevocation`: the replicated copy, introspection, or the server's database);
 * 6. the route's guards: scopes, roles, permissions, client, actor, then RFC 9470 step-up (`guards.ts`).
 *
 * Every refusal is a `VerifyError` whose answer (status, `WWW-Authenticate` challenge, body) `errorResponse` writes.
 */
import { HEADERS, type TokenLocation } from '@jot/contract';

import { checkCsrf, SAFE_METHODS } from './csrf.js';
import type { RequestDPoP } from './dpop.js';
import { errorResponse, fromJoseError, isVerifyError, VerifyError, type ErrorResponse } from './errors.js';
import {
  compileGuards,
  enforceGuards,
  isCompiledGuards,
  type CompiledGuards,
  type Guards,
} from './guards.js';
import { extractToken } from './token.js';
import { readHeader, type AccessTokenClaims, type Clock, type RequestLike } from './types.js';

/** What `createRequestAuth` plugs together. */
export interface RequestAuthOptions<C extends AccessTokenClaims = AccessTokenClaims> {
  /**
   * Verifies the token's signature and claims (opening it first when encrypted); throws (or rejects with) a
   * `JoseError` or `VerifyError`. May answer synchronously: nothing is awaited that needs no waiting.
   */
  verifyToken: (token: string) => C | Promise<C>;
  /**
   * Applies every revocation that concerns the claims; throws a `VerifyError` (`tokenRevoked`, or a 503). Gets the
   * request too, for a caller that keeps what its check read (the server keeps the user row for the route).
   */
  checkRevocation: (claims: C, token: string, request: RequestLike) => void | Promise<void>;
  /** The DPoP step (RFC 9449 §7). */
  dpop: Pick<RequestDPoP, 'check'>;
  /**
   * The access-cookie names read when there is no `Authorization` header (none: cookies are not read), or a function
   * of the request (the server reads only the spelling it would set on that request).
   */
  cookieNames: readonly string[] | ((request: RequestLike) => readonly string[]);
  /** @default Date.now */
  clock?: Clock;
  /** The realm of the challenges. @default 'jot' */
  realm?: string;
  /** The DPoP proof algorithms offered next to `Bearer` when no token was sent; unset: `Bearer` only. */
  dpopAlgs?: string;
  /**
   * The refusal for a step that failed instead of answering — it threw something other than a `VerifyError` or
   * `JoseError` (a database or Redis down, a bug) — so that `authenticate` still resolves. Told the error and the
   * step that threw, to log them; rethrowing from here lets the error propagate instead (to a framework's own error
   * handler).
   * @default a 503: `ERR_VERIFY_REVOCATION_UNAVAILABLE` (`reason` `failure`) for the revocation step,
   * `ERR_VERIFY_UNAVAILABLE` (`reason` the step) for any other, the error as its `cause`
   */
  onFailure?: (err: unknown, step: AuthStep) => VerifyError;
}

/**
 * The steps of `authenticate`, in order: the token (read from the request, then its signature and claims), its DPoP
 * binding, CSRF, revocation, the route's guards. Told to `onFailure`: which one threw instead of answering.
 */
export type AuthStep = 'token' | 'dpop' | 'csrf' | 'revocation' | 'guards';

/**
 * The default refusal for a step that failed rather than refused, answered 503 with `Retry-After` and never failing
 * open, the error as `cause`: the revocation check is `ERR_VERIFY_REVOCATION_UNAVAILABLE` (`reason` `failure`), as
 * when the revocation list cannot be asked; any other step — a DPoP replay store down, a key check that threw — is
 * `ERR_VERIFY_UNAVAILABLE` with the step as `reason` (it says nothing about revocation).
 */
export function unexpectedFailure(err: unknown, step: AuthStep): VerifyError {
  if (step === 'revocation') {
    return new VerifyError(
      'ERR_VERIFY_REVOCATION_UNAVAILABLE',
      'revocation status cannot be confirmed right now; retry shortly',
      { reason: 'failure', cause: err },
    );
  }
  return new VerifyError(
    'ERR_VERIFY_UNAVAILABLE',
    'the request cannot be authenticated right now; retry shortly',
    { reason: step, cause: err },
  );
}

/** An authenticated request. */
export interface RequestAuthContext<C extends AccessTokenClaims = AccessTokenClaims> {
  readonly claims: C;
  /** The raw access token, to forward downstream. Never log it. */
  readonly token: string;
  readonly via: TokenLocation;
}

/** The outcome of `authenticate`: the context, or the refusal and the response to send. */
export type RequestAuthResult<C extends AccessTokenClaims = AccessTokenClaims> =
  | { readonly ok: true; readonly auth: RequestAuthContext<C> }
  | {
      readonly ok: false;
      readonly error: VerifyError;
      readonly response: ErrorResponse;
      /** The verified claims when the refusal came after verification (DPoP, CSRF, revocation, guards). */
      readonly claims: C | undefined;
    };

/** Per-call options of `authenticate`. */
export interface AuthenticateOptions {
  /** Skip the revocation step (the caller checks it itself, as a renewal that claims the `jti` first). @default true */
  revocation?: boolean;
}

/** The request authenticator. */
export interface RequestAuth<C extends AccessTokenClaims = AccessTokenClaims> {
  /**
   * Authenticates a request and applies `guards`. Never rejects for anything a request or a dependency can cause:
   * a bad request is its refusal, a failing dependency the refusal `onFailure` makes (503 by default:
   * `ERR_VERIFY_UNAVAILABLE`, or `ERR_VERIFY_REVOCATION_UNAVAILABLE` when the revocation check threw). Rejects only
   * for guards that are not valid (a `TypeError`, the caller's mistake) or when `onFailure` rethrows.
   */
  authenticate(
    request: RequestLike,
    guards?: Guards | CompiledGuards,
    options?: AuthenticateOptions,
  ): Promise<RequestAuthResult<C>>;
  /** Applies guards to claims already authenticated (a route's later, stricter check); throws a `VerifyError`. */
  enforce(claims: C, guards: Guards | CompiledGuards): void;
  /** The response for a refusal, with this authenticator's realm and DPoP offer. */
  respond(error: VerifyError): ErrorResponse;
  readonly realm: string;
}

/** Any thenable, not only a native Promise: a caller's `verifyToken` may use another promise library. */
function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as Partial<PromiseLike<T>>).then === 'function';
}

/**
 * Builds the request authenticator.
 *
 * @example
 * const auth = createRequestAuth({ verifyToken, checkRevocation, dpop, cookieNames: ['__Host-jot_at'] });
 * const result = await auth.authenticate(request, { roles: ['admin'] });
 * if (!result.ok) send(result.response);
 */
export function createRequestAuth<C extends AccessTokenClaims = AccessTokenClaims>(
  options: RequestAuthOptions<C>,
): RequestAuth<C> {
  const { verifyToken, checkRevocation, dpop, cookieNames, dpopAlgs } = options;
  const onFailure = options.onFailure ?? unexpectedFailure;
  const clock = options.clock ?? Date.now;
  const realm = options.realm ?? 'jot';
  const noGuards = compileGuards();
  const compiledOf = (guards: Guards | CompiledGuards | undefined): CompiledGuards =>
    guards === undefined ? noGuards : isCompiledGuards(guards) ? guards : compileGuards(guards);
  const respond = (error: VerifyError): ErrorResponse => errorResponse(error, realm, dpopAlgs);
  const enforce = (claims: C, guards: Guards | CompiledGuards): void =>
    enforceGuards(claims, compiledOf(guards), Math.floor(clock() / 1000));

  return {
    realm,
    respond,
    enforce,
    async authenticate(request, guards, authOptions = {}) {
      // Outside the try: guards that are not valid are the caller's mistake, not the request's.
      const compiled = compiledOf(guards);
      let claims: C | undefined;
      /** The step running: what `onFailure` is told when one throws instead of refusing. */
      let step: AuthStep = 'token';
      try {
        const names = typeof cookieNames === 'function' ? cookieNames(request) : cookieNames;
        const { token, via } = extractToken(request, names);
        try {
          const verified = verifyToken(token);
          claims = isThenable(verified) ? await verified : verified;
        } catch (err) {
          throw fromJoseError(err);
        }
        step = 'dpop';
        const proven = dpop.check(request, token, via, claims);
        if (proven !== undefined) await proven;
        if (via === 'cookie' && !SAFE_METHODS.has((request.method ?? 'GET').toUpperCase())) {
          step = 'csrf';
          checkCsrf(readHeader(request.headers, HEADERS.csrf), claims.cth);
        }
        if (authOptions.revocation !== false) {
          step = 'revocation';
          const checked = checkRevocation(claims, token, request);
          if (checked !== undefined) await checked;
        }
        step = 'guards';
        enforce(claims, compiled);
        return { ok: true, auth: { claims, token, via } };
      } catch (err) {
        const error = isVerifyError(err) ? err : onFailure(err, step);
        return { ok: false, error, response: respond(error), claims };
      }
    },
  };
}
