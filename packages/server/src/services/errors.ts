/**
 * Domain errors: what a service raises when it refuses. Each has a stable `code` (an `ERR_…` of the server's
 * registry) and a `kind` saying what went wrong in the domain's own terms; the service knows nothing of HTTP.
 * `http/error-handler.ts` is the one place that turns a kind into a status, an error name and a challenge.
 */

import type { JotErrorCode } from '@jot/contract';

/** What a refusal is about. */
export type DomainErrorKind =
  /** The input is malformed or breaks a rule (an invalid email, a weak password, a bad scope). */
  | 'invalid'
  /** The access token presented is not (or no longer) good: revoked, its session ended, its account disabled. */
  | 'token'
  /** A grant presented is not good: a refresh token, an MFA token or code, a subject token, credentials. */
  | 'grant'
  /** The OAuth client could not be authenticated. */
  | 'client'
  /** The caller is known but may not do this. */
  | 'forbidden'
  /** The thing named does not exist. */
  | 'not_found'
  /** The request conflicts with the current state (already enrolled, already registered, the last admin). */
  | 'conflict'
  /** Too many attempts; `retryAfterSeconds` says when to try again. */
  | 'throttled';

/** A refusal raised by a service. */
export class DomainError extends Error {
  override readonly name = 'DomainError';
  readonly kind: DomainErrorKind;
  readonly code: JotErrorCode;
  /** For `throttled`: whole seconds until another attempt can succeed. */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    kind: DomainErrorKind,
    code: JotErrorCode,
    message: string,
    options: { retryAfterSeconds?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.kind = kind;
    this.code = code;
    this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Whether `err` is a domain error (of one of `kinds`, when given). */
export function isDomainError(err: unknown, ...kinds: DomainErrorKind[]): err is DomainError {
  return err instanceof DomainError && (kinds.length === 0 || kinds.includes(err.kind));
}
