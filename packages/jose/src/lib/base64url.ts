/**
 * Canonical base64url (RFC 7515 §2, RFC 4648 §5 without padding). `Buffer.from(x, 'base64url')` accepts padding,
 * `+`/`/`, whitespace and non-zero trailing bits, so many strings would decode to one token; we accept exactly one
 * spelling per byte string (SECURITY-NOTES: jsrsasign CVE-2022-25898).
 */
import { Buffer } from 'node:buffer';

const ALPHABET = /^[A-Za-z0-9_-]*$/;
const VALUES = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'].entries()) {
  VALUES[c.charCodeAt(0)] = i;
}

/** True when `text` is the one canonical unpadded base64url spelling of some byte string. */
export function isCanonicalBase64url(text: string): boolean {
  const rem = text.length & 3;
  if (rem === 1 || !ALPHABET.test(text)) return false;
  if (rem === 0) return true;
  // The unused low bits of the last character must be zero: 4 bits when 2 chars remain, 2 bits when 3 remain.
  const last = VALUES[text.charCodeAt(text.length - 1)] ?? -1;
  return (last & (rem === 2 ? 0x0f : 0x03)) === 0;
}

/** Decodes canonical base64url; returns `undefined` for any other spelling. */
export function decodeBase64url(text: string): Buffer | undefined {
  return isCanonicalBase64url(text) ? Buffer.from(text, 'base64url') : undefined;
}

/** Encodes bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  return (
    typeof input === 'string'
      ? Buffer.from(input, 'utf8')
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  ).toString('base64url');
}
