/**
 * TOTP (RFC 6238) over HOTP (RFC 4226): HMAC-SHA-1, 6 digits, 30-second steps — what every authenticator app
 * reads from an `otpauth://` URI. Verification accepts the step before and after the current one (clock drift and
 * typing time, RFC 6238 §5.2) and reports which step matched, so the caller can refuse its reuse.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** The TOTP parameters Jot uses (the authenticator-app defaults). */
export const TOTP = { digits: 6, periodSeconds: 30, window: 1, algorithm: 'SHA1' } as const;

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** RFC 4648 base32 without padding (the `secret` of an otpauth URI). */
export function base32Encode(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let value = 0;
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** Decodes base32 (case, spaces and padding ignored); throws `TypeError` on another character. */
export function base32Decode(text: string): Buffer {
  const clean = text.replace(/[\s=]/g, '').toUpperCase();
  const out: number[] = [];
  let bits = 0;
  let value = 0;
  for (const ch of clean) {
    const index = BASE32.indexOf(ch);
    if (index < 0) throw new TypeError('not base32');
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** A new 160-bit secret (RFC 4226 §4 recommends 160 bits). */
export function newTotpSecret(): Buffer {
  return randomBytes(20);
}

/** HOTP value of `counter` (RFC 4226 §5.3, dynamic truncation). */
export function hotp(
  secret: Uint8Array,
  counter: number,
  digits: number = TOTP.digits,
  algorithm: 'sha1' | 'sha256' | 'sha512' = 'sha1',
): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(algorithm, secret).update(message).digest();
  const offset = mac[mac.length - 1]! & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, '0');
}

/** The time step of `nowMs` (RFC 6238 §4.2, T0 = 0). */
export function totpStep(nowMs: number, periodSeconds: number = TOTP.periodSeconds): number {
  return Math.floor(nowMs / 1000 / periodSeconds);
}

/** The code an authenticator shows at `nowMs`. */
export function totpCode(secret: Uint8Array, nowMs: number): string {
  return hotp(secret, totpStep(nowMs));
}

/**
 * The step whose code equals `code` within ±`TOTP.window` steps of `nowMs`, or undefined. Every candidate is
 * compared in constant time, and all of them are computed whatever matches.
 */
export function matchTotp(secret: Uint8Array, code: string, nowMs: number): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const current = totpStep(nowMs);
  let matched: number | undefined;
  for (let step = current - TOTP.window; step <= current + TOTP.window; step++) {
    if (timingSafeEqual(Buffer.from(hotp(secret, step)), Buffer.from(code)) && matched === undefined)
      matched = step;
  }
  return matched;
}

/** The `otpauth://` URI (Key Uri Format) an authenticator app reads from the QR code. */
export function otpauthUri(secret: Uint8Array, issuer: string, account: string): string {
  const label = `${encodeURIComponent(issuer)}:${encodeURIComponent(account)}`;
  const params = new URLSearchParams({
    secret: base32Encode(secret),
    issuer,
    algorithm: TOTP.algorithm,
    digits: String(TOTP.digits),
    period: String(TOTP.periodSeconds),
  });
  return `otpauth://totp/${label}?${params.toString()}`;
}
