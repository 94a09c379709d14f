/**
 * CSRF protection for cookie-authenticated requests: a mutating request must carry `X-Csrf-Token`, and the
 * base64url SHA-256 of that header must equal the token's `cth` claim. Compared in constant time on the 32-byte
 * digests, so the comparison leaks nothing about `cth`.
 */
import { createHash, timingSafeEqual } from 'node:crypto';

import { VerifyError } from './errors.js';

/** Methods that cannot change state (RFC 9110 §9.2.1) and so need no CSRF token. */
export const SAFE_METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Throws `ERR_CSRF` unless `header` hashes to `cth`.
 *
 * @example
 * checkCsrf(request.headers['x-csrf-token'], claims.cth);
 */
export function checkCsrf(header: string | undefined, cth: unknown): void {
  if (header === undefined || header.length === 0 || header.length > 512) {
    throw new VerifyError('ERR_CSRF', 'this request needs the X-Csrf-Token header', {
      reason: 'missing',
    });
  }
  const expected =
    typeof cth === 'string' && /^[A-Za-z0-9_-]{43}$/.test(cth) ? Buffer.from(cth, 'base64url') : undefined;
  if (expected === undefined || expected.length !== 32) {
    throw new VerifyError('ERR_CSRF', 'the access cookie is not bound to a CSRF token', {
      claim: 'cth',
      reason: 'unbound',
    });
  }
  const actual = createHash('sha256').update(header, 'utf8').digest();
  if (!timingSafeEqual(actual, expected)) {
    throw new VerifyError('ERR_CSRF', 'the X-Csrf-Token header does not match the session', {
      claim: 'cth',
      reason: 'mismatch',
    });
  }
}
