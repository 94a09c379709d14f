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

  constructor(
    code: JotClientError['code'],
    message: string,
    options: { status?: number; error?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? 0;
    this.error = options.error;
  }
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
  return new JotClientError(code, description, {
    status: response.status,
    error: typeof fields.error === 'string' ? fields.error : undefined,
  });
}
