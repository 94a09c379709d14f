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

/** Errors an OAuth endpoint answers as they are (see `asProtectedResourceError`). */
const asTheyAre = new WeakSet<HttpError>();

/**
 * Marks the refusal of a bearer credential presented to an OAuth endpoint as a protected resource's: RFC 7662 §2.3
 * answers a resource server's invalid or insufficient bearer token at introspection with a 401 as RFC 6750 §3
 * describes (`WWW-Authenticate: Bearer error="invalid_token"`), not with a token endpoint's 400.
 */
export function asProtectedResourceError(err: HttpError): HttpError {
  asTheyAre.add(err);
  return err;
}

/**
 * `text` in the characters RFC 6749 §5.2 allows in `error_description` (%x20-21 / %x23-5B / %x5D-7E): a double
 * quote becomes a single one, `§` "section", a backslash a slash, and anything else outside the set `?`.
 */
export function oauthDescription(text: string): string {
  return text
    .replace(/"/g, "'")
    .replace(/§\s?/g, 'section ')
    .replace(/\\/g, '/')
    .replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, '?');
}

/** `err` with its description in RFC 6749 §5.2's characters (the same object when it already is). */
function describedForOAuth(err: HttpError): HttpError {
  const message = oauthDescription(err.message);
  if (message === err.message) return err;
  return new HttpError(err.statusCode, err.code, message, {
    error: err.error,
    headers: { ...err.headers },
    cause: err.cause,
  });
}

/**
 * An error thrown below the OAuth endpoints, in RFC 6749 §5.2 terms: services shared with the JSON API answer
 * `invalid_grant` as a 401 (the browser API's rule); here it is a 400. Authentication challenges for bearer tokens
 * become `invalid_grant` too (a bad refresh token is a bad grant, not a bad client), except a protected resource's
 * (`asProtectedResourceError`). Every description is kept to §5.2's characters.
 */
export function asOAuthError(err: unknown): unknown {
  if (!(err instanceof HttpError)) return err;
  if (err.error === 'invalid_client' || asTheyAre.has(err)) return describedForOAuth(err);
  if (err.statusCode === 415) {
    // §5.2 has no 415: a body in another media type is a malformed request, and JSON is not the advice here.
    return oauthError(
      'invalid_request',
      'ERR_OAUTH_REQUEST',
      'send the parameters as application/x-www-form-urlencoded (RFC 6749 section 3.2)',
    );
  }
  if (err.statusCode === 429) {
    // RFC 6749 §5.2 (and RFC 7009 §2.2.1, RFC 7662 §2.3, which refer to it) registers no code for "too many
    // requests", and the IANA OAuth Extensions Error registry none for the token endpoint that fits (`slow_down` is
    // the device grant's polling signal, RFC 8628 §3.5; `temporarily_unavailable` is the authorization endpoint's):
    // `invalid_request` is the error member; the status, `Retry-After` and `code` say why.
    return new HttpError(429, err.code, oauthDescription(err.message), {
      error: 'invalid_request',
      headers: { ...err.headers },
      cause: err.cause,
    });
  }
  if (err.statusCode === 401 || err.statusCode === 403) {
    const error =
      err.error === 'invalid_grant' || err.error === 'invalid_token' ? 'invalid_grant' : err.error;
    return new HttpError(400, err.code, oauthDescription(err.message), {
      error: error === 'forbidden' ? 'invalid_grant' : error,
    });
  }
  return describedForOAuth(err);
}
