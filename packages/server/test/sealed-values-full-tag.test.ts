/**
 * `openWith` (services/secrets.ts) opens only what `sealWith` made: AES-256-GCM with the full 16-byte tag. Node's
 * decipher otherwise takes a 4-, 8- or 12–15-byte tag (DEP0182) — and a value cut short took whatever was left of
 * it, so an empty plaintext sealed under the key still opened with its tag cut to 8 bytes, a tag an attacker needs
 * 2^64 tries to forge instead of 2^128. (Sealed values come only from the database today; the check is for the day
 * one travels through a client. Review "opaque values" L4.)
 */
import { randomBytes } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { openWith, sealWith } from '../src/services/secrets.js';

const IV = 12;
const TAG = 16;

describe('openWith', () => {
  const key = randomBytes(32);

  it('opens what sealWith made, the empty plaintext included', () => {
    expect(openWith(key, sealWith(key, 'a successor'))).toBe('a successor');
    expect(openWith(key, sealWith(key, ''))).toBe('');
  });

  it('refuses a sealed value cut to an 8-byte tag (or a 4-, 12- or 15-byte one)', () => {
    const raw = Buffer.from(sealWith(key, ''), 'base64url');
    expect(raw.length).toBe(IV + TAG);
    for (const tag of [4, 8, 12, 15]) {
      const cut = raw.subarray(0, IV + tag).toString('base64url');
      expect(openWith(key, cut), `a ${tag}-byte tag`).toBeUndefined();
    }
  });

  it('refuses input shorter than an IV and a full tag, and a wrong tag', () => {
    for (const length of [0, 1, IV, IV + TAG - 1]) {
      expect(openWith(key, randomBytes(length).toString('base64url')), `${length} bytes`).toBeUndefined();
    }
    const raw = Buffer.from(sealWith(key, 'a successor'), 'base64url');
    raw[IV]! ^= 0x01;
    expect(openWith(key, raw.toString('base64url'))).toBeUndefined();
  });
});
