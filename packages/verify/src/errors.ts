/**
 * The error family of `@jot/verify`. Every reason a request is refused is a `VerifyError` with a stable `code`
 * (`ERR_VERIFY_…`, or a `@jot/jose` code passed through for a bad token), an HTTP status and the RFC 6750 / RFC 9470
 * challenge to answer with. Messages are written for the client and never contain the token.
 */
import { isJoseError, type JoseErrorCode } from '@jot/jose';

/** Codes of `@jot/verify` itself. Documented in docs/verify.md. */
export type VerifyOwnCode =
  /** No access token in the `Authorization` header or the access cookie (RFC 6750 §3.1: challenge without error). */
  | 'ERR_VERIFY_NO_TOKEN'
  /** An `Authorization` header that is not `Bearer <token>`: a malformed request (RFC 6750 §3.1). 400. */
  | 'ERR_VERIFY_BAD_AUTHORIZATION'
  /** The token was revoked: its `jti`, a per-user cut-off (`iat <= valid_after`) or an old token version. See `reason`. */
  | 'ERR_VERIFY_TOKEN_REVOKED'
  /** The token's session (`sid`) was ended (logout). */
  | 'ERR_VERIFY_SESSION_ENDED'
  /** The token's user is disabled. */
  | 'ERR_VERIFY_USER_DISABLED'
  /** The introspection endpoint (strict mode) answered `active: false`. */
  | 'ERR_VERIFY_TOKEN_INACTIVE'
  /** The revocation copy is older than `maxStaleness` (fail closed), or the central list could not be asked. 503. */
  | 'ERR_VERIFY_REVOCATION_UNAVAILABLE'
  /** No key set has ever been loaded from the issuer. 503. */
  | 'ERR_VERIFY_KEYS_UNAVAILABLE'
  /** Cookie authentication on a mutating request without a matching `X-Csrf-Token`. 403. */
  | 'ERR_VERIFY_CSRF'
  /** The token lacks a required scope. 403 `insufficient_scope`. */
  | 'ERR_VERIFY_INSUFFICIENT_SCOPE'
  /** The token lacks a required role or permission. 403 `insufficient_scope`. */
  | 'ERR_VERIFY_FORBIDDEN'
  /** `auth_time` is older than the route's `maxAuthAge` (RFC 9470 step-up). 401 `insufficient_user_authentication`. */
  | 'ERR_VERIFY_STEP_UP_REQUIRED'
  /** `decryption.required` is set and the token is a plain signed JWT, not an encrypted one. 401. */
  | 'ERR_VERIFY_NOT_ENCRYPTED';

/** Every code a `VerifyError` can carry: ours, plus the JOSE codes of a token that failed verification. */
export type VerifyErrorCode = VerifyOwnCode | JoseErrorCode;

/** All of `@jot/verify`'s own codes, for documentation checks and exhaustive switches. */
export const VERIFY_ERROR_CODES: readonly VerifyOwnCode[] = [
  'ERR_VERIFY_NO_TOKEN',
  'ERR_VERIFY_BAD_AUTHORIZATION',
  'ERR_VERIFY_TOKEN_REVOKED',
  'ERR_VERIFY_SESSION_ENDED',
  'ERR_VERIFY_USER_DISABLED',
  'ERR_VERIFY_TOKEN_INACTIVE',
  'ERR_VERIFY_REVOCATION_UNAVAILABLE',
  'ERR_VERIFY_KEYS_UNAVAILABLE',
  'ERR_VERIFY_CSRF',
  'ERR_VERIFY_INSUFFICIENT_SCOPE',
  'ERR_VERIFY_FORBIDDEN',
  'ERR_VERIFY_STEP_UP_REQUIRED',
  'ERR_VERIFY_NOT_ENCRYPTED',
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

const STATUS: Readonly<Record<VerifyOwnCode, number>> = {
  ERR_VERIFY_NO_TOKEN: 401,
  ERR_VERIFY_BAD_AUTHORIZATION: 400,
  ERR_VERIFY_TOKEN_REVOKED: 401,
  ERR_VERIFY_SESSION_ENDED: 401,
  ERR_VERIFY_USER_DISABLED: 401,
  ERR_VERIFY_TOKEN_INACTIVE: 401,
  ERR_VERIFY_REVOCATION_UNAVAILABLE: 503,
  ERR_VERIFY_KEYS_UNAVAILABLE: 503,
  ERR_VERIFY_CSRF: 403,
  ERR_VERIFY_INSUFFICIENT_SCOPE: 403,
  ERR_VERIFY_FORBIDDEN: 403,
  ERR_VERIFY_STEP_UP_REQUIRED: 401,
  ERR_VERIFY_NOT_ENCRYPTED: 401,
};

/**
 * A refused request. `status` and `error` are what the client sees, with `message` as `error_description`.
 *
 * @example
 * const result = await verifier.authenticate(request);
 * if (!result.ok && result.error.code === 'ERR_VERIFY_STEP_UP_REQUIRED') redirectToReauth(result.error.maxAge);
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
  if (code === 'ERR_VERIFY_NO_TOKEN' || code === 'ERR_VERIFY_CSRF' || status === 400)
    return 'invalid_request';
  if (code === 'ERR_VERIFY_STEP_UP_REQUIRED') return 'insufficient_user_authentication';
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
export interface ErrorBody {
  error: string;
  error_description: string;
  code: string;
}

/** A ready-to-send refusal. */
export interface ErrorResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
}

function quote(value: string): string {
  return value.replace(/["\\\r\n]/g, '');
}

/**
 * The HTTP answer for a refusal: RFC 6750 §3 `WWW-Authenticate` for 400s, 401s and `insufficient_scope` 403s,
 * RFC 9470 §3 `max_age` for step-up, `Retry-After` for 503s.
 *
 * @example
 * const { status, headers, body } = errorResponse(err, 'orders');
 */
export function errorResponse(err: VerifyError, realm = 'jot', dpopAlgs?: string): ErrorResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  const realmPart = `Bearer realm="${quote(realm)}"`;
  if (err.dpop !== undefined) {
    // RFC 9449 §7.1: the DPoP scheme's challenge, with the proof algorithms accepted and, for nonces, the nonce.
    headers['www-authenticate'] =
      `DPoP error="${err.error}", error_description="${quote(err.message)}", algs="${err.dpop.algs}"`;
    if (err.dpop.nonce !== undefined) headers['dpop-nonce'] = err.dpop.nonce;
  } else if (err.code === 'ERR_VERIFY_NO_TOKEN') {
    // RFC 6750 §3.1: no error code when no credentials were sent; both schemes offered when DPoP is on.
    headers['www-authenticate'] =
      dpopAlgs === undefined ? realmPart : `${realmPart}, DPoP algs="${dpopAlgs}"`;
  } else if (err.status === 400 || err.status === 401 || err.error === 'insufficient_scope') {
    let challenge = `${realmPart}, error="${err.error}", error_description="${quote(err.message)}"`;
    if (err.scope !== undefined) challenge += `, scope="${quote(err.scope)}"`;
    if (err.acrValues !== undefined) challenge += `, acr_values="${quote(err.acrValues)}"`;
    if (err.maxAge !== undefined) challenge += `, max_age="${err.maxAge}"`;
    headers['www-authenticate'] = challenge;
  } else if (err.status === 503) {
    headers['retry-after'] = '1';
  }
  return {
    status: err.status,
    headers,
    body: { error: err.error, error_description: err.message, code: err.code },
  };
}
