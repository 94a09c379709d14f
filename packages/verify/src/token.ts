/**
 * Where the access token comes from: `Authorization: Bearer` (RFC 6750 §2.1) or `DPoP` (RFC 9449 §7.1), else the
 * access cookie.
 * A present but malformed `Authorization` header is refused rather than silently falling back to the cookie.
 */
import { VerifyError } from './errors.js';
import { readHeader, type RequestLike } from './types.js';

/** The default access-cookie names: `__Host-jot_at` (Secure, host-only). Add `jot_at` for plain-http development. */
export const DEFAULT_COOKIE_NAMES: readonly string[] = ['__Host-jot_at'];

/** A token and how it arrived. */
export interface ExtractedToken {
  readonly token: string;
  readonly via: 'bearer' | 'cookie' | 'dpop';
}

const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
/** RFC 9449 §7.1: `Authorization: DPoP <token>`, the token68 syntax of RFC 7235. */
const DPOP = /^DPoP +([A-Za-z0-9\-._~+/]+=*) *$/i;

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
 * Finds the access token of a request, or throws `ERR_VERIFY_NO_TOKEN` / `ERR_VERIFY_BAD_AUTHORIZATION`.
 *
 * @example
 * const { token, via } = extractToken(req, ['__Host-jot_at']);
 */
export function extractToken(request: RequestLike, cookieNames: readonly string[]): ExtractedToken {
  const authorization = readHeader(request.headers, 'authorization');
  if (authorization !== undefined) {
    const bearer = BEARER.exec(authorization)?.[1];
    if (bearer !== undefined) return { token: bearer, via: 'bearer' };
    const dpop = DPOP.exec(authorization)?.[1];
    if (dpop !== undefined) return { token: dpop, via: 'dpop' };
    throw new VerifyError(
      'ERR_VERIFY_BAD_AUTHORIZATION',
      'the Authorization header must be "Bearer <token>" or "DPoP <token>"',
      { reason: 'scheme' },
    );
  }
  if (cookieNames.length > 0) {
    const cookie = readHeader(request.headers, 'cookie');
    const token = cookie === undefined ? undefined : readCookie(cookie, cookieNames);
    if (token !== undefined) return { token, via: 'cookie' };
  }
  throw new VerifyError('ERR_VERIFY_NO_TOKEN', 'this endpoint requires an access token', {
    reason: 'missing',
  });
}
