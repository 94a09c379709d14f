/**
 * Opaque secrets the server hands out (refresh tokens, CSRF tokens, one-time tokens): 256 random bits, stored only
 * as a SHA-256 hash. A rotated refresh token's successor is kept encrypted under a key derived from the rotated
 * token itself, so only the holder of that token can be handed the same successor again within the grace window
 * — a database reader learns nothing.
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createHash, hkdfSync, timingSafeEqual } from 'node:crypto';

import { randomBase64url, randomBytesPooled } from './random-pool.js';

/** Characters in a secret {@link newSecret} hands out (32 bytes in base64url): as an HMAC key, this many bytes. */
export const SECRET_CHARS = 43;

/** A fresh 256-bit secret, base64url ({@link SECRET_CHARS} characters). */
export function newSecret(): string {
  return randomBase64url(32);
}

/** Hex SHA-256 of a secret: what the store keeps. */
export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** base64url SHA-256, the form bound into JWT claims (`cth`). */
export function hashForClaim(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('base64url');
}

/** Constant-time equality of two strings (false when lengths differ, which is not secret). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

function successorKey(previous: string): Buffer {
  return deriveKey(previous, 'jot refresh successor v1');
}

/** AES-256-GCM under `key`: base64url of iv ‖ tag ‖ ciphertext. */
export function sealWith(key: Buffer, plaintext: string): string {
  const iv = randomBytesPooled(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64url');
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Opens what `sealWith` made under the same key; `undefined` if it does not open. Only with the whole 16-byte tag:
 * Node's decipher would otherwise check a 4-, 8- or 12- to 15-byte one (an 8-byte tag is 2^64 tries to forge, not
 * 2^128), and a value cut short would give it whatever was left.
 */
export function openWith(key: Buffer, sealed: string): string | undefined {
  try {
    const raw = Buffer.from(sealed, 'base64url');
    if (raw.length < IV_BYTES + TAG_BYTES) return undefined;
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString(
      'utf8',
    );
  } catch {
    return undefined;
  }
}

/** A 32-byte key derived (HKDF-SHA256) from `secret` for one purpose, named by `info`. */
export function deriveKey(secret: Buffer | string, info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, Buffer.alloc(0), info, 32));
}

/** Encrypts `successor` (AES-256-GCM) under a key derived from `previous`. */
export function sealSuccessor(previous: string, successor: string): string {
  return sealWith(successorKey(previous), successor);
}

/** Decrypts what `sealSuccessor` made; `undefined` if it does not open with this token. */
export function openSuccessor(previous: string, sealed: string): string | undefined {
  return openWith(successorKey(previous), sealed);
}

function renewalKey(renewed: string): Buffer {
  return deriveKey(renewed, 'jot renewal successor v1');
}

/** Encrypts a renewed access token's `successor` under a key derived from the renewed token. */
export function sealRenewal(renewed: string, successor: string): string {
  return sealWith(renewalKey(renewed), successor);
}

/** Decrypts what `sealRenewal` made; `undefined` if it does not open with this token. */
export function openRenewal(renewed: string, sealed: string): string | undefined {
  return openWith(renewalKey(renewed), sealed);
}
