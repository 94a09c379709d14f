/**
 * HTTP errors: one JSON body shape everywhere — `{ error, error_description, code }` — where `error` is the
 * RFC 6749/6750 short name a generic OAuth client understands and `code` is Jot's stable machine-readable code.
 * Details that help an operator (causes, stack traces) go to the log only, never to the client.
 */

import type { ErrorBody, JotErrorCode } from '@jot/contract';
import { bearerChallenge, errorResponse, type ErrorResponse, type VerifyError } from '@jot/verify';

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

/**
 * A 401 for a bearer-protected resource with its RFC 6750 §3 challenge (written by `@jot/verify`'s
 * `bearerChallenge`, as on every protected route). Without credentials the challenge carries no error (§3.1:
 * "SHOULD NOT include an error code" when the request lacked authentication).
 */
export function unauthorized(
  code: JotErrorCode,
  message: string,
  options: { noCredentials?: boolean } = {},
): HttpError {
  const challenge = options.noCredentials
    ? bearerChallenge({})
    : bearerChallenge({ error: 'invalid_token', description: message });
  return new HttpError(401, code, message, {
    error: options.noCredentials ? 'invalid_request' : 'invalid_token',
    headers: { 'www-authenticate': challenge },
  });
}

/**
 * A refusal of request authentication (`@jot/verify`'s `VerifyError`: the same code, status, challenge and body as
 * every resource server's) as an `HttpError` for the error handler; `cause` rides along unserialised.
 */
export function fromVerifyError(
  err: VerifyError,
  options: { response?: ErrorResponse; cause?: unknown } = {},
): HttpError {
  // `response`: the one `createRequestAuth` wrote (with its realm and DPoP offer); else written here.
  const response = options.response ?? errorResponse(err);
  return new HttpError(response.status, err.code, err.message, {
    error: response.body.error,
    headers: { ...response.headers },
    cause: options.cause,
  });
}
