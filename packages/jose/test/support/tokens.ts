/**
 * Hand-made tokens for negative tests. Each forged token carries a valid HMAC over exactly the bytes it holds, so a
 * rejection is caused by the rule under test, never by a bad signature.
 */
import { Buffer } from 'node:buffer';
import { createHmac, randomBytes } from 'node:crypto';

import { importSecret, type Key } from '../../src/index.js';

/** A fixed clock: 2023-11-14T22:13:20Z. */
export const NOW = 1_700_000_000;
export const NOW_DATE = new Date(NOW * 1000);

/** base64url of UTF-8 text or bytes, unpadded. */
export function b64(input: string | Uint8Array): string {
  return (typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input)).toString('base64url');
}

/** base64url of a value's JSON text. */
export function b64json(value: unknown): string {
  return b64(JSON.stringify(value));
}

/** A 32-byte HS256 secret and its `Key`, shared by the forging helpers. */
export const SECRET = randomBytes(32);
export const SECRET_KEY: Key = importSecret(SECRET, { alg: 'HS256' });

/** HMAC (base64url) over `signingInput`. */
export function hmac(signingInput: string, secret: Uint8Array = SECRET, hash = 'sha256'): string {
  return createHmac(hash, secret).update(signingInput, 'latin1').digest('base64url');
}

/** A token from already-encoded segments, HMAC-signed over them. */
export function forgeSegments(header: string, payload: string, secret: Uint8Array = SECRET): string {
  return `${header}.${payload}.${hmac(`${header}.${payload}`, secret)}`;
}

/** A token from a header and payload given as values (JSON-encoded) or raw JSON text, HMAC-signed with SECRET. */
export function forge(header: unknown, payload: unknown, secret: Uint8Array = SECRET): string {
  const h = typeof header === 'string' ? b64(header) : b64json(header);
  const p = typeof payload === 'string' ? b64(payload) : b64json(payload);
  return forgeSegments(h, p, secret);
}

/** A well-formed claims set valid at NOW. */
export function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { sub: 'user-1', iat: NOW - 10, exp: NOW + 600, ...extra };
}
