/**
 * Decoding WITHOUT verification, for display and debugging only. Nothing decoded here may be trusted: the signature
 * is not checked, so anyone could have written it. The structure is still checked strictly.
 */
import { decodeJSONObject, splitCompact, DEFAULT_MAX_TOKEN_LENGTH } from '../jws/segments.js';
import { isCanonicalBase64url } from '../lib/base64url.js';
import { JoseError } from '../errors.js';
import type { JWTPayload } from './types.js';

/** An unverified header and payload. */
export interface UnverifiedJWT {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: JWTPayload;
}

/**
 * Decodes a JWT without checking its signature or claims. **Unsafe for any trust decision** — use `verify`.
 *
 * @example
 * const { header, payload } = decodeUnverified(token); // for a debugger view only
 */
export function decodeUnverified(token: string, options: { maxTokenLength?: number } = {}): UnverifiedJWT {
  const parts = splitCompact(token, options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH);
  const header = decodeJSONObject(parts.header, 'JWS header', 'ERR_JWS_INVALID');
  const payload = decodeJSONObject(parts.payload, 'JWT claims set', 'ERR_JWT_INVALID');
  if (!isCanonicalBase64url(parts.signature)) {
    throw new JoseError('ERR_JWS_INVALID', 'the signature is not canonical base64url', {
      reason: 'base64url',
    });
  }
  return { header, payload };
}
