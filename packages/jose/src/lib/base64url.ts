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

// Matches no one-byte string at all, so V8 answers it without scanning one (tokens are one-byte strings).
const WIDE = /[\u0100-\uffff]/;

/**
 * Decodes `text` into `into` from `offset` and returns the number of bytes written, or -1 when `text` is not
 * canonical base64url — exactly when `isCanonicalBase64url` says so, but without its per-character scan, which costs
 * more than the decoding itself on a token-sized segment. Buffer's decoder is lenient: it skips or stops at any
 * one-byte character outside `A-Za-z0-9+/-_` (whitespace, `=`, `?`, `.`…), so such a character leaves fewer bytes
 * than the text's length promises; what it accepts that we do not is `+` and `/` (searched for, which is fast),
 * non-zero unused trailing bits (checked on the last character) and, in a two-byte string, characters it reads by
 * their low byte (refused by `WIDE`). The test suite compares the two functions on every UTF-16 code unit in every
 * position class, so a future decoder that reads more leniently fails it. `into` must have room for
 * `(text.length * 3) >> 2` bytes after `offset`.
 */
export function decodeCanonicalInto(text: string, into: Buffer, offset: number): number {
  const length = (text.length * 3) >> 2;
  const rem = text.length & 3;
  if (rem === 1 || into.write(text, offset, length, 'base64url') !== length) return -1;
  if (rem !== 0 && ((VALUES[text.charCodeAt(text.length - 1)] ?? -1) & (rem === 2 ? 0x0f : 0x03)) !== 0)
    return -1;
  if (text.indexOf('+') !== -1 || text.indexOf('/') !== -1 || WIDE.test(text)) return -1;
  return length;
}

/** Decodes canonical base64url into a Buffer of its own; returns `undefined` for any other spelling. */
export function decodeBase64url(text: string): Buffer | undefined {
  const bytes = Buffer.allocUnsafe((text.length * 3) >> 2);
  return decodeCanonicalInto(text, bytes, 0) === bytes.length ? bytes : undefined;
}

/** Encodes bytes or a UTF-8 string as unpadded base64url. */
export function encodeBase64url(input: Uint8Array | string): string {
  return (
    typeof input === 'string'
      ? Buffer.from(input, 'utf8')
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength)
  ).toString('base64url');
}
