/**
 * HTTP errors: one JSON body shape everywhere — `{ error, error_description, code }` — where `error` is the
 * RFC 6749/6750 short name a generic OAuth client understands and `code` is Jot's stable machine-readable code.
 * Details that help an operator (causes, stack traces) go to the log only, never to the client.
 */

import type { ErrorBody, JotErrorCode } from '@jot/contract';

/** Every `code` the server itself answers with (JOSE codes from `@jot/jose` pass through for token failures). */
export { SERVER_ERROR_CODES, type ErrorBody, type ServerErrorCode } from '@jot/contract';

/** An error with an HTTP status, thrown by handlers and turned into an `ErrorBody` by the error handler. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  readonly statusCode: number;
  readonly code: JotErrorCode;
  readonly error: string;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    statusCode: number,
    code: JotErrorCode,
    message: string,
    options: { error?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.statusCode = statusCode;
    this.code = code;
    this.error = options.error ?? defaultErrorName(statusCode);
    this.headers = options.headers ?? {};
  }

  /** The response body. */
  toBody(): ErrorBody {
    return { error: this.error, error_description: this.message, code: this.code };
  }
}

function defaultErrorName(status: number): string {
  if (status === 401) return 'invalid_token';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  return 'invalid_request';
}

/** Keeps only what RFC 6750 §3 allows inside a quoted challenge parameter (%x20-21 / %x23-5B / %x5D-7E). */
function quote(value: string): string {
  return value.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, '');
}

/**
 * A 401 for a bearer-protected resource with its RFC 6750 §3 challenge. Without credentials the challenge carries
 * no error (§3.1: "SHOULD NOT include an error code" when the request lacked authentication).
 */
export function unauthorized(
  code: JotErrorCode,
  message: string,
  options: { noCredentials?: boolean } = {},
): HttpError {
  const challenge = options.noCredentials
    ? 'Bearer realm="jot"'
    : `Bearer realm="jot", error="invalid_token", error_description="${quote(message)}"`;
  return new HttpError(401, code, message, {
    error: options.noCredentials ? 'invalid_request' : 'invalid_token',
    headers: { 'www-authenticate': challenge },
  });
}

/** A 403 for a valid token that lacks a role or scope (RFC 6750 §3.1 `insufficient_scope`). */
export function forbidden(message: string, scope?: string): HttpError {
  const scopePart = scope === undefined ? '' : `, scope="${quote(scope)}"`;
  return new HttpError(403, 'ERR_FORBIDDEN', message, {
    error: 'insufficient_scope',
    headers: {
      'www-authenticate': `Bearer realm="jot", error="insufficient_scope", error_description="${quote(message)}"${scopePart}`,
    },
  });
}

/**
 * A 401 asking for a fresher or stronger authentication (RFC 9470 §3): the token is valid but its `auth_time` is
 * older than `maxAgeSeconds`, or (with `acrValues`) its `acr` is below what the action needs. The client
 * re-authenticates (`POST /api/reauth`, or `POST /api/mfa/step-up` for a second factor) and retries.
 */
export function stepUpRequired(maxAgeSeconds: number, acrValues?: string): HttpError {
  const message =
    acrValues === undefined
      ? `this action needs a password confirmation within the last ${maxAgeSeconds} seconds`
      : `this action needs a second factor (acr ${acrValues}) confirmed within the last ${maxAgeSeconds} seconds`;
  const acr = acrValues === undefined ? '' : `, acr_values="${quote(acrValues)}"`;
  return new HttpError(401, 'ERR_STEP_UP_REQUIRED', message, {
    error: 'insufficient_user_authentication',
    headers: {
      'www-authenticate': `Bearer realm="jot", error="insufficient_user_authentication", error_description="${quote(message)}"${acr}, max_age=${maxAgeSeconds}`,
    },
  });
}
