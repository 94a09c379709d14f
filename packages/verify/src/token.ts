/**
 * Where the access token comes from: `Authorization: Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1), else the
 * access cookie. One parser for the Jot server's routes and every `@jot/verify` adapter:
 * - no header and no cookie, or a header of another scheme (`Basic …`): `ERR_AUTH_REQUIRED`, 401 with a challenge
 *   that names no error (RFC 6750 §3.1: an unsupported authentication method is no authentication information);
 * - `Bearer` / `DPoP` with anything but exactly one token68 value: `ERR_AUTH_MALFORMED`, 400 `invalid_request`
 *   (RFC 6750 §3.1 "otherwise malformed");
 * - more than one `Authorization` line, whatever they hold: `ERR_AUTH_MALFORMED` (`reason` `duplicate`) — a singleton
 *   field (RFC 9110 §5.3), which Node reduces to its first line, where a proxy might take the last. Seen through
 *   `rawHeaders` (node:http, Express, Fastify) or an array value; a Web `Headers` object (Hono) joins the lines into
 *   one value, which is malformed when it starts with `Bearer` / `DPoP` (a token68 has no comma) and another scheme
 *   (401 `ERR_AUTH_REQUIRED`) otherwise.
 * A present `Authorization` header is never passed over for the cookie, whatever it holds.
 */
import type { TokenLocation } from '@jot/contract';

import { VerifyError } from './errors.js';
import { headerLines, readHeader, type RequestLike } from './types.js';

/** A token and how it arrived. */
export interface ExtractedToken {
  readonly token: string;
  readonly via: TokenLocation;
}

/** `<scheme> <token68>` (RFC 7235 §2.1: the scheme is case-insensitive; one or more spaces; no other parameters). */
const CREDENTIALS = /^([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?: +(.*))?$/;
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=* *$/;
/** `Bearer` + one space + a token68 with nothing around it: what the general parse accepts, unchanged. */
const BEARER_TOKEN68 = /^Bearer [A-Za-z0-9\-._~+/]+=*$/;

/**
 * Reads an `Authorization` header: the token of a `Bearer` or `DPoP` header, `undefined` for another scheme (or no
 * header); throws `ERR_AUTH_MALFORMED` for a `Bearer` / `DPoP` header whose credentials are not one token.
 *
 * @example
 * parseAuthorization('Bearer eyJ…'); // { token: 'eyJ…', via: 'bearer' }
 * parseAuthorization('Basic dXNlcg=='); // undefined
 */
export function parseAuthorization(header: string | undefined): ExtractedToken | undefined {
  if (header === undefined) return undefined;
  // The usual spelling, exactly `Bearer <token68>`: one test instead of the general parse below (same answer).
  if (header.startsWith('Bearer ') && BEARER_TOKEN68.test(header))
    return { token: header.slice(7), via: 'bearer' };
  const match = CREDENTIALS.exec(header.trim());
  const scheme = match?.[1]?.toLowerCase();
  if (scheme !== 'bearer' && scheme !== 'dpop') return undefined;
  const credentials = match?.[2] ?? '';
  if (!TOKEN68.test(credentials)) {
    throw new VerifyError(
      'ERR_AUTH_MALFORMED',
      `the Authorization header must be "${scheme === 'bearer' ? 'Bearer' : 'DPoP'} <token>" with exactly one token`,
      { reason: 'syntax' },
    );
  }
  return { token: credentials.trimEnd(), via: scheme === 'bearer' ? 'bearer' : 'dpop' };
}

/** The first cookie among `names` in a `Cookie` header (RFC 6265 §5.4), read without building an object. */
export function readCookie(header: string, names: readonly string[]): string | undefined {
  for (const name of names) {
    for (const part of header.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
      let value = part.slice(eq + 1).trim();
      if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
      if (value.length > 0) return value;
    }
  }
  return undefined;
}

/**
 * Finds the access token of a request, or throws `ERR_AUTH_REQUIRED` / `ERR_AUTH_MALFORMED`.
 *
 * @example
 * const { token, via } = extractToken(req, ['__Host-jot_at']);
 */
export function extractToken(request: RequestLike, cookieNames: readonly string[]): ExtractedToken {
  const lines = headerLines(request, 'authorization');
  if (lines !== undefined && lines > 1) {
    throw new VerifyError(
      'ERR_AUTH_MALFORMED',
      `send one Authorization header: this request has ${lines} (RFC 9110 section 5.3)`,
      { reason: 'duplicate' },
    );
  }
  const authorization = readHeader(request.headers, 'authorization');
  if (authorization !== undefined) {
    const found = parseAuthorization(authorization);
    if (found !== undefined) return found;
    throw new VerifyError(
      'ERR_AUTH_REQUIRED',
      'this endpoint accepts only "Authorization: Bearer <token>" or "DPoP <token>"',
      { reason: 'scheme' },
    );
  }
  if (cookieNames.length > 0) {
    const cookie = readHeader(request.headers, 'cookie');
    const token = cookie === undefined ? undefined : readCookie(cookie, cookieNames);
    if (token !== undefined) return { token, via: 'cookie' };
  }
  throw new VerifyError('ERR_AUTH_REQUIRED', 'this endpoint requires an access token', {
    reason: 'missing',
  });
}
