/**
 * The error family of `@jot/verify`. Every reason a request is refused is a `VerifyError` with a stable `code`
 * (`ERR_VERIFY_…`, or a `@jot/jose` code passed through for a bad token), an HTTP status and the RFC 6750 / RFC 9470
 * challenge to answer with. Messages are written for the client and never contain the token.
 */
import {
  HEADERS,
  REQUEST_AUTH_ERROR_CODES,
  VERIFY_OWN_ERROR_CODES,
  type ErrorBody,
  type JoseErrorCode,
  type RequestAuthCode,
  type VerifyOwnCode,
} from '@jot/contract';
import { isJoseError } from '@jot/jose';

/**
 * The codes of request authentication, the same from the Jot server's own routes and from every `@jot/verify`
 * adapter (both run `createRequestAuth`): one condition, one code; and the codes only a resource server's verifier
 * raises. Both lists live in `@jot/contract`; documented in docs/errors.md and docs/verify.md.
 */
export type { RequestAuthCode, VerifyOwnCode };

/** Every code a `VerifyError` can carry: request authentication's, ours, and the JOSE codes of a bad token. */
export type VerifyErrorCode = RequestAuthCode | VerifyOwnCode | JoseErrorCode;

/** The codes of request authentication (server and verifier alike). */
export { REQUEST_AUTH_ERROR_CODES };

/** All codes `@jot/verify` raises besides the JOSE ones, for documentation checks and exhaustive switches. */
export const VERIFY_ERROR_CODES: readonly (RequestAuthCode | VerifyOwnCode)[] = [
  ...REQUEST_AUTH_ERROR_CODES,
  ...VERIFY_OWN_ERROR_CODES,
];

/** Machine-readable facts about a refusal. */
export interface VerifyErrorDetails {
  /** The claim concerned (`exp`, `jti`, `scope`, `auth_time`, …). */
  readonly claim?: string;
  /** A short stable reason within the code (`jti`, `cutoff`, `version`, `stale`, …). */
  readonly reason?: string;
  /** Space-separated scopes that would satisfy the route (`insufficient_scope` challenges). */
  readonly scope?: string;
  /** Seconds: the `max_age` of a step-up challenge (RFC 9470 §3). */
  readonly maxAge?: number;
  /** Space-separated `acr` values that would satisfy a step-up challenge (RFC 9470 §3 `acr_values`). */
  readonly acrValues?: string;
  /** A DPoP refusal (RFC 9449 §7.1): the `algs` of the challenge and the nonce to send in `DPoP-Nonce`. */
  readonly dpop?: { readonly algs: string; readonly nonce?: string };
  /** Logged, never sent to the client. */
  readonly cause?: unknown;
}

const STATUS: Readonly<Record<RequestAuthCode | VerifyOwnCode, number>> = {
  ERR_AUTH_REQUIRED: 401,
  ERR_AUTH_MALFORMED: 400,
  ERR_TOKEN_REVOKED: 401,
  ERR_CSRF: 403,
  ERR_FORBIDDEN: 403,
  ERR_STEP_UP_REQUIRED: 401,
  ERR_VERIFY_REVOCATION_UNAVAILABLE: 503,
  ERR_VERIFY_REVOCATION_REFUSED: 503,
  ERR_VERIFY_KEYS_UNAVAILABLE: 503,
  ERR_VERIFY_UNAVAILABLE: 503,
  ERR_VERIFY_NOT_ENCRYPTED: 401,
};

/**
 * A refused request. `status` and `error` are what the client sees, with `message` as `error_description`.
 *
 * @example
 * const result = await verifier.authenticate(request);
 * if (!result.ok && result.error.code === 'ERR_STEP_UP_REQUIRED') redirectToReauth(result.error.maxAge);
 */
export class VerifyError extends Error {
  override readonly name = 'VerifyError';
  readonly code: VerifyErrorCode;
  /** HTTP status: 400, 401, 403 or 503. */
  readonly status: number;
  /** RFC 6749/6750/9470 error name: `invalid_token`, `invalid_request`, `insufficient_scope`, … */
  readonly error: string;
  readonly claim: string | undefined;
  readonly reason: string | undefined;
  readonly scope: string | undefined;
  readonly maxAge: number | undefined;
  readonly acrValues: string | undefined;
  /** Set for DPoP refusals: answered with a `WWW-Authenticate: DPoP` challenge. */
  readonly dpop: { readonly algs: string; readonly nonce?: string } | undefined;

  constructor(code: VerifyErrorCode, message: string, details: VerifyErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.status = (STATUS as Readonly<Record<string, number>>)[code] ?? 401;
    this.error =
      details.dpop === undefined ? errorName(code, this.status) : dpopErrorName(code, details.reason);
    this.claim = details.claim;
    this.reason = details.reason;
    this.scope = details.scope;
    this.maxAge = details.maxAge;
    this.acrValues = details.acrValues;
    this.dpop = details.dpop;
  }
}

/**
 * RFC 9449 §7.1 error names: `use_dpop_nonce` for a missing nonce, `invalid_token` when the token was sent with
 * the wrong scheme (or is not bound), `invalid_dpop_proof` for everything about the proof.
 */
function dpopErrorName(code: VerifyErrorCode, reason: string | undefined): string {
  if (code === 'ERR_DPOP_NONCE_REQUIRED') return 'use_dpop_nonce';
  if (reason === 'scheme' || reason === 'unbound' || reason === 'policy') return 'invalid_token';
  return 'invalid_dpop_proof';
}

function errorName(code: VerifyErrorCode, status: number): string {
  if (code === 'ERR_AUTH_REQUIRED' || code === 'ERR_CSRF' || status === 400) return 'invalid_request';
  if (code === 'ERR_STEP_UP_REQUIRED') return 'insufficient_user_authentication';
  if (status === 403) return 'insufficient_scope';
  if (status === 503) return 'temporarily_unavailable';
  return 'invalid_token';
}

/** Narrows an unknown value to a `VerifyError`, optionally of one code. */
export function isVerifyError(value: unknown, code?: VerifyErrorCode): value is VerifyError {
  return value instanceof VerifyError && (code === undefined || value.code === code);
}

/** Turns a `JoseError` from token verification into a 401 `VerifyError`; anything else is rethrown. */
export function fromJoseError(err: unknown): VerifyError {
  if (isVerifyError(err)) return err;
  if (isJoseError(err)) {
    return new VerifyError(err.code, `the access token is not valid: ${err.message}`, {
      claim: err.claim,
      reason: err.reason,
    });
  }
  throw err;
}

/** The JSON body of every refusal, the same shape as the Jot server's. */
export type { ErrorBody };

/** A ready-to-send refusal. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
}

/** Keeps only what RFC 6750 §3 allows inside a quoted challenge parameter (%x20-21 / %x23-5B / %x5D-7E). */
function quote(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/** The parameters of a `WWW-Authenticate: Bearer` challenge. */
export interface BearerChallenge {
  /** @default 'jot' */
  realm?: string;
  /** The RFC 6750 §3.1 / RFC 9470 error name; none: the bare challenge of a request without credentials. */
  error?: string;
  description?: string;
  /** Space-separated scopes that would do (RFC 6750 §3). */
  scope?: string;
  /** RFC 9470 §3. */
  acrValues?: string;
  /** RFC 9470 §3: seconds, written quoted as in the RFC's examples. */
  maxAge?: number;
  /** Proof algorithms: also offer the `DPoP` scheme (RFC 9449 §7.1). Only in the bare challenge. */
  dpopAlgs?: string;
}

/**
 * The one writer of `WWW-Authenticate: Bearer` challenges (RFC 6750 §3, RFC 9470 §3), for the server's routes and
 * every adapter: parameters in a fixed order, quoted values stripped to RFC 6750's quoted-string characters.
 *
 * @example
 * bearerChallenge({ error: 'insufficient_user_authentication', description: 'too old', maxAge: 300 });
 * // 'Bearer realm="jot", error="insufficient_user_authentication", error_description="too old", max_age="300"'
 */
export function bearerChallenge(params: BearerChallenge): string {
  let challenge = `Bearer realm="${quote(params.realm ?? 'jot')}"`;
  if (params.error === undefined) {
    return params.dpopAlgs === undefined ? challenge : `${challenge}, DPoP algs="${quote(params.dpopAlgs)}"`;
  }
  challenge += `, error="${quote(params.error)}"`;
  if (params.description !== undefined) challenge += `, error_description="${quote(params.description)}"`;
  if (params.scope !== undefined) challenge += `, scope="${quote(params.scope)}"`;
  if (params.acrValues !== undefined) challenge += `, acr_values="${quote(params.acrValues)}"`;
  if (params.maxAge !== undefined) challenge += `, max_age="${params.maxAge}"`;
  return challenge;
}

/**
 * The HTTP answer for a refusal: RFC 6750 §3 `WWW-Authenticate` for 400s, 401s and `insufficient_scope` 403s,
 * RFC 9470 §3 `max_age` for step-up, RFC 9449 §7.1 `DPoP` challenges, `Retry-After` for 503s.
 *
 * @example
 * const { status, headers, body } = errorResponse(err, 'orders');
 */
export function errorResponse(err: VerifyError, realm = 'jot', dpopAlgs?: string): ErrorResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (err.dpop !== undefined) {
    // RFC 9449 §7.1: the DPoP scheme's challenge, with the proof algorithms accepted and, for nonces, the nonce.
    headers['www-authenticate'] =
      `DPoP error="${err.error}", error_description="${quote(err.message)}", algs="${quote(err.dpop.algs)}"`;
    if (err.dpop.nonce !== undefined) headers[HEADERS.dpopNonce] = err.dpop.nonce;
  } else if (err.code === 'ERR_AUTH_REQUIRED') {
    // RFC 6750 §3.1: no error code when no credentials were sent; both schemes offered when DPoP is on.
    headers['www-authenticate'] = bearerChallenge({ realm, dpopAlgs });
  } else if (err.status === 400 || err.status === 401 || err.error === 'insufficient_scope') {
    headers['www-authenticate'] = bearerChallenge({
      realm,
      error: err.error,
      description: err.message,
      scope: err.scope,
      acrValues: err.acrValues,
      maxAge: err.maxAge,
    });
  } else if (err.status === 503) {
    headers['retry-after'] = '1';
  }
  return {
    status: err.status,
    headers,
    body: { error: err.error, error_description: err.message, code: err.code },
  };
}

/** Why a token counts as revoked (`VerifyError.reason` of `ERR_TOKEN_REVOKED`). */
export type RevokedReason =
  /** Its own `jti` was revoked (logout, RFC 7009 revocation, single-token renewal). */
  | 'jti'
  /** Its session (`sid`) has ended. */
  | 'session'
  /** Its user is disabled. */
  | 'disabled'
  /** Its user no longer exists. */
  | 'deleted'
  /** It was issued up to the user's cut-off (signed out everywhere, password change). */
  | 'cutoff'
  /** It carries an old token version (roles or status changed since). */
  | 'version'
  /** Its client is no longer registered (a client's own token). */
  | 'client'
  /** The issuer's introspection answered `active: false` (the reason is not known here). */
  | 'inactive';

const REVOKED: Readonly<Record<RevokedReason, readonly [claim: string | undefined, message: string]>> = {
  jti: ['jti', 'this access token has been revoked'],
  session: ['sid', 'the session has ended; sign in again'],
  disabled: ['sub', 'this account is disabled'],
  deleted: ['sub', 'the account no longer exists'],
  cutoff: ['iat', 'the account was signed out everywhere; sign in again'],
  version: ['ver', 'the account changed (roles or status); refresh the access token'],
  client: ['client_id', 'the client this token was issued to is no longer registered'],
  inactive: [undefined, 'the access token is no longer active'],
};

/**
 * The one `ERR_TOKEN_REVOKED` refusal for `reason`: the same code, message and challenge whether the Jot server
 * checks its database or a resource server its replicated copy.
 *
 * @example
 * if (state.sessionEnded(claims.sid)) throw tokenRevoked('session');
 */
export function tokenRevoked(reason: RevokedReason): VerifyError {
  const [claim, message] = REVOKED[reason];
  return new VerifyError('ERR_TOKEN_REVOKED', message, { claim, reason });
}
