/**
 * The key-encryption key (`JOT_KEK`): AES-256-GCM sealing of private signing-key material at rest.
 *
 * Sealed form: `v1.<kekId>.<iv>.<ciphertext‖tag>` (base64url parts). The 96-bit IV is random per seal (NIST SP
 * 800-38D §8.2.2; we seal a handful of keys, far below the 2^32 limit). The caller's associated data (the key's
 * `kid` and `alg`) is authenticated, so a ciphertext moved to another row does not open. `kekId` is a short HKDF
 * output identifying the KEK, so a wrong `JOT_KEK` is told apart from a damaged row before any decryption; the
 * AES key is derived from the KEK with HKDF too (key separation between the two uses).
 */
import { Buffer } from 'node:buffer';
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync, randomBytes } from 'node:crypto';
import type { KeyObject } from 'node:crypto';

import { KeyError } from './errors.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** Seals and opens private key material under one KEK. Holds the derived AES key as a `KeyObject` only. */
export interface Kek {
  /** Public identifier of this KEK (11 base64url characters); safe to log. */
  readonly id: string;
  /** Encrypts `plaintext`, authenticating `aad` alongside it. */
  seal(plaintext: Uint8Array, aad: string): string;
  /**
   * Decrypts what `seal` made with the same `aad`.
   * @throws {KeyError} `ERR_KEK_MISMATCH` when sealed under another KEK; `ERR_KEY_SEALED_INVALID` when malformed
   *   or tampered with (including a different `aad`).
   */
  open(sealed: string, aad: string): Buffer;
}

function derive(material: Uint8Array, info: string, length: number): Buffer {
  return Buffer.from(hkdfSync('sha256', material, Buffer.alloc(0), `jot kek ${VERSION} ${info}`, length));
}

/**
 * Builds the KEK from 32 bytes of key material (`JOT_KEK`).
 *
 * @throws {TypeError} when the material is not exactly 32 bytes (a configuration bug, reported once at start).
 * @example
 * const kek = createKek(randomBytes(32));
 * const sealed = kek.seal(Buffer.from('secret'), 'kid-1');
 * kek.open(sealed, 'kid-1').toString(); // 'secret'
 */
export function createKek(material: Uint8Array): Kek {
  if (!(material instanceof Uint8Array) || material.length !== 32) {
    throw new TypeError('the key-encryption key (JOT_KEK) must be exactly 32 bytes');
  }
  const id = derive(material, 'id', 8).toString('base64url');
  const aesKey: KeyObject = createSecretKey(derive(material, 'aes-256-gcm', 32));

  function malformed(why: string): KeyError {
    return new KeyError('ERR_KEY_SEALED_INVALID', `sealed key material is unreadable: ${why}`);
  }

  return {
    id,
    seal(plaintext, aad) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', aesKey, iv);
      cipher.setAAD(Buffer.from(aad, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${id}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed, aad) {
      const parts = sealed.split('.');
      if (parts.length !== 4) throw malformed('not in the v1.<kekId>.<iv>.<data> form');
      const [version, kekId, ivText, bodyText] = parts as [string, string, string, string];
      if (version !== VERSION) throw malformed(`unknown format version "${version.slice(0, 8)}"`);
      if (kekId !== id) {
        throw new KeyError(
          'ERR_KEK_MISMATCH',
          `sealed under another key-encryption key (id ${kekId.slice(0, 16)}) than the configured JOT_KEK ` +
            `(id ${id}); set JOT_KEK to the key the signing keys were created with`,
        );
      }
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== IV_BYTES || body.length < TAG_BYTES) throw malformed('truncated');
      try {
        const decipher = createDecipheriv('aes-256-gcm', aesKey, iv);
        decipher.setAAD(Buffer.from(aad, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - TAG_BYTES));
        return Buffer.concat([decipher.update(body.subarray(0, body.length - TAG_BYTES)), decipher.final()]);
      } catch {
        // GCM authentication failed: the row was altered or belongs to another kid. Node's message says no more.
        throw malformed('authentication failed (tampered with, or moved from another key)');
      }
    },
  };
}
