/**
 * RFC 6749 §5.2 error responses for the OAuth endpoints (`/oauth/token`, `/oauth/revoke`, `/oauth/introspect`):
 * `invalid_client` is a 401 with a `WWW-Authenticate` challenge; every other OAuth error is a 400 (not the 401 the
 * JSON browser API answers with). The body keeps Jot's one shape: `{ error, error_description, code }`.
 */
import type { JotErrorCode } from '@jot/contract';

import { HttpError } from './errors.js';

/** OAuth error names the endpoints answer with (RFC 6749 §5.2, RFC 8693 §2.2.2, RFC 7009 §2.2.1). */
export type OAuthErrorName =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_target'
  | 'unsupported_token_type';

/** A 401 `invalid_client` (RFC 6749 §5.2) with its challenge. */
export function invalidClient(code: JotErrorCode, message: string): HttpError {
  return new HttpError(401, code, message, {
    error: 'invalid_client',
    headers: { 'www-authenticate': 'Basic realm="jot", charset="UTF-8"' },
  });
}

/** A 400 OAuth error. */
export function oauthError(error: OAuthErrorName, code: JotErrorCode, message: string): HttpError {
  return new HttpError(400, code, message, { error });
}

/**
 * An error thrown below the OAuth endpoints, in RFC 6749 §5.2 terms: services shared with the JSON API answer
 * `invalid_grant` as a 401 (the browser API's rule); here it is a 400. Authentication challenges for bearer tokens
 * become `invalid_grant` too (a bad subject token is a bad grant, not a bad client).
 */
export function asOAuthError(err: unknown): unknown {
  if (!(err instanceof HttpError) || err.error === 'invalid_client') return err;
  if (err.statusCode === 401 || err.statusCode === 403) {
    const error =
      err.error === 'invalid_grant' || err.error === 'invalid_token' ? 'invalid_grant' : err.error;
    return new HttpError(400, err.code, err.message, {
      error: error === 'forbidden' ? 'invalid_grant' : error,
    });
  }
  return err;
}
