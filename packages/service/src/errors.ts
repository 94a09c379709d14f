/**
 * The error family of `@jot/service`: every failure to get or use a token is a `ServiceError` with a stable `code`,
 * and — when the token endpoint answered — its RFC 6749 §5.2 `error` and HTTP `status`. Messages never contain a
 * token, a secret or key material.
 */

import { SERVICE_ERROR_CODES, type ServiceErrorCode } from '@jot/contract';

/** Codes of `@jot/service` and the list of them (the registry in `@jot/contract`). Documented in docs/errors.md. */
export { SERVICE_ERROR_CODES, type ServiceErrorCode };

/**
 * A failure to obtain a token.
 *
 * @example
 * try {
 *   await service.token({ audience: 'https://orders.internal' });
 * } catch (err) {
 *   if (isServiceError(err) && err.error === 'invalid_client') console.error('check the client key');
 * }
 */
export class ServiceError extends Error {
  override readonly name = 'ServiceError';
  readonly code: ServiceErrorCode;
  /** The RFC 6749 §5.2 `error` of a refusal. */
  readonly error: string | undefined;
  /** The HTTP status of a refusal. */
  readonly status: number | undefined;

  constructor(
    code: ServiceErrorCode,
    message: string,
    details: { error?: string; status?: number; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.code = code;
    this.error = details.error;
    this.status = details.status;
  }
}

/** Narrows an unknown value to a `ServiceError`, optionally of one code. */
export function isServiceError(value: unknown, code?: ServiceErrorCode): value is ServiceError {
  return value instanceof ServiceError && (code === undefined || value.code === code);
}
