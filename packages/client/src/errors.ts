/**
 * The client's one error class. Server failures keep the server's `{error, error_description, code}`; failures of
 * the client itself have `ERR_CLIENT_*` codes. Messages never contain a token or password.
 */

import { CLIENT_ERROR_CODES, type ClientErrorCode, type ErrorBody, type JotErrorCode } from '@jot/contract';

/** Codes raised by the client itself (server codes such as `ERR_INVALID_CREDENTIALS` pass through). */
export { CLIENT_ERROR_CODES, type ClientErrorCode };

/** A failed call: `status` is the HTTP status (0 when no response arrived). */
export class JotClientError extends Error {
  override readonly name = 'JotClientError';
  /** A server code (`ERR_CSRF`, `ERR_INVALID_CREDENTIALS`, …) or a {@link ClientErrorCode}; an unknown code of a newer server stays a string. */
  readonly code: JotErrorCode | (string & {});
  /** HTTP status, or 0 for network and client errors. */
  readonly status: number;
  /** The RFC 6749 `error` name the server gave, if any. */
  readonly error: string | undefined;
  /** Seconds the server asked to wait before trying again (`Retry-After` of a 429 or 503), when it said. */
  readonly retryAfter: number | undefined;

  constructor(
    code: JotClientError['code'],
    message: string,
    options: { status?: number; error?: string; retryAfter?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.error = options.error;
    this.retryAfter = options.retryAfter;
  }
}

/** `Retry-After` (RFC 9110 §10.2.3) in seconds from now: delay-seconds or an HTTP date; undefined when absent or bad. */
export function retryAfterSeconds(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const value = header.trim();
  if (/^\d{1,10}$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

/** Builds a `JotClientError` from a non-2xx response, reading the server's JSON error body when there is one. */
export async function errorFromResponse(response: Response): Promise<JotClientError> {
  let body: unknown;
  try {
    body = await response.json();
  } catch {
    body = undefined;
  }
  // The contract's members, each still unchecked: a renamed member fails to compile here.
  const fields: Partial<Record<keyof ErrorBody, unknown>> =
    typeof body === 'object' && body !== null ? body : {};
  const code = typeof fields.code === 'string' ? fields.code : `HTTP_${response.status}`;
  const description =
    typeof fields.error_description === 'string'
      ? fields.error_description
      : `the server answered ${response.status}`;
  const retryAfter = retryAfterSeconds(response.headers.get('retry-after'));
  return new JotClientError(code, description, {
    status: response.status,
    error: typeof fields.error === 'string' ? fields.error : undefined,
    ...(retryAfter === undefined ? {} : { retryAfter }),
  });
}

/**
 * The JSON body of a 2xx answer. A body that is not JSON (a proxy's HTML page) is `ERR_CLIENT_BAD_RESPONSE`; a
 * connection lost while the body arrives is `ERR_CLIENT_NETWORK`.
 */
export async function jsonOf<T>(response: Response): Promise<T> {
  let text: string;
  try {
    text = await response.text();
  } catch (cause) {
    throw new JotClientError('ERR_CLIENT_NETWORK', 'the connection was lost while the answer arrived', {
      cause,
    });
  }
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new JotClientError(
      'ERR_CLIENT_BAD_RESPONSE',
      `the server answered ${response.status} with something that is not JSON`,
      { status: response.status, cause },
    );
  }
}
