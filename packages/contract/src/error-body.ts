/**
 * The one JSON shape of every refusal, from the server and from `@jot/verify`'s middleware alike: `error` is the
 * RFC 6749 §5.2 / RFC 6750 §3.1 / RFC 9470 name a generic OAuth client understands, `code` is Jot's stable code.
 */
import type { JotErrorCode } from './error-codes.js';

/** The JSON body of every error response. */
export interface ErrorBody {
  /** RFC 6749 §5.2 / RFC 6750 §3.1 error name (`invalid_request`, `invalid_token`, `insufficient_scope`, …). */
  error: string;
  /** A sentence a person can act on. Never contains a token, password or key. */
  error_description: string;
  /** Jot's stable code, e.g. `ERR_JWT_EXPIRED` (see {@link JotErrorCode}). */
  code: JotErrorCode;
}
