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

/** What to send instead of a body the OAuth endpoints cannot read (RFC 6749 §3.2 and Appendix B). */
export const SEND_A_FORM =
  'send the parameters as an application/x-www-form-urlencoded body, UTF-8 encoded (RFC 6749 section 3.2)';

/**
 * Our codes for a request that does not match what the route reads: at an OAuth endpoint each is a malformed
 * request, `invalid_request` with `ERR_OAUTH_REQUEST` (the code the endpoints document for one). `ERR_VALIDATION`
 * keeps its description (it names the parameter or what is wrong with the form); the JSON codes cannot arise from
 * the scope's own parsers (form only), and whatever does raise them, the advice is the form.
 */
const MALFORMED_REQUEST: Readonly<Record<string, string | undefined>> = {
  ERR_VALIDATION: undefined,
  // Two Authorization lines (http/singleton-headers.ts): its description says so.
  ERR_AUTH_MALFORMED: undefined,
  ERR_BAD_JSON: SEND_A_FORM,
  ERR_JSON_FORBIDDEN_KEY: SEND_A_FORM,
};

/**
 * An error thrown below the OAuth endpoints, in RFC 6749 §5.2 terms: services shared with the JSON API answer
 * `invalid_grant` as a 401 (the browser API's rule); here it is a 400. Authentication challenges for bearer tokens
 * become `invalid_grant` too (a bad refresh token is a bad grant, not a bad client), except a protected resource's
 * (`asProtectedResourceError`). A request the route cannot read (`ERR_VALIDATION`, the JSON codes) is a 400
 * `invalid_request` with `ERR_OAUTH_REQUEST`; a body in another media type already is one (the scope's parsers,
 * `refuseOtherMediaTypes`), and so is a 415 (an encoding or charset the server does not read, http/body-encoding.ts:
 * its own description, which says which, and its `Accept-Encoding` are kept). Statuses §5.2 does not name keep their
 * status, code and description with `invalid_request` as the error: 413 (over `JOT_BODY_LIMIT`) and 429. Every
 * description is kept to §5.2's characters.
 */
export function asOAuthError(err: unknown): unknown {
  if (!(err instanceof HttpError)) return err;
  if (err.error === 'invalid_client' || asTheyAre.has(err)) return describedForOAuth(err);
  if (err.statusCode === 400 && Object.hasOwn(MALFORMED_REQUEST, err.code)) {
    return oauthError(
      'invalid_request',
      'ERR_OAUTH_REQUEST',
      oauthDescription(MALFORMED_REQUEST[err.code] ?? err.message),
    );
  }
  if (err.statusCode === 415) {
    return new HttpError(400, 'ERR_OAUTH_REQUEST', oauthDescription(err.message), {
      error: 'invalid_request',
      headers: { ...err.headers },
      cause: err.cause,
    });
  }
  if (err.statusCode === 413 || err.statusCode === 429) {
    // RFC 6749 §5.2 (and RFC 7009 §2.2.1, RFC 7662 §2.3, which refer to it) registers no code for these, and for
    // "too many requests" the IANA OAuth Extensions Error registry none for the token endpoint that fits
    // (`slow_down` is the device grant's polling signal, RFC 8628 §3.5; `temporarily_unavailable` the
    // authorization endpoint's): `invalid_request` is the error member; the status, headers and `code` say why.
    return new HttpError(err.statusCode, err.code, oauthDescription(err.message), {
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
