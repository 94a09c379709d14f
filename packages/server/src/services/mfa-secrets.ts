/**
 * Secrets of the second factors at rest. TOTP secrets are sealed under the KEK (the same AES-256-GCM sealing as the
 * private signing keys), with the factor and user ids as associated data, so a ciphertext moved to another row does
 * not open. Recovery codes are stored as HMAC-SHA-256 under a key derived from the KEK: a copy of the database
 * alone cannot be searched for the codes.
 */
import { Buffer } from 'node:buffer';
import { createHmac, hkdfSync, randomInt } from 'node:crypto';

import { createKek, type Kek } from '../keys/kek.js';

/** How many recovery codes a user gets. */
export const RECOVERY_CODE_COUNT = 10;

// Lower-case letters and digits without 0/o, 1/l/i: easy to read back from paper.
const CODE_ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/** Sealing and hashing of second-factor secrets. */
export interface MfaSecrets {
  sealTotp(secret: Uint8Array, ids: { userId: string; factorId: string }): string;
  /** @throws {KeyError} when the row was tampered with or sealed under another KEK. */
  openTotp(sealed: string, ids: { userId: string; factorId: string }): Buffer;
  /** Ten fresh codes like `k7dm-x3qp-9wzh` (about 64 bits each). */
  newRecoveryCodes(): string[];
  /** The keyed hash stored for a code (spaces, dashes and case ignored). */
  hashRecoveryCode(userId: string, code: string): string;
}

function aad(ids: { userId: string; factorId: string }): string {
  return `jot totp secret|${ids.userId}|${ids.factorId}`;
}

/** Normalises a typed recovery code: lower case, without spaces and dashes. */
export function normaliseRecoveryCode(code: string): string {
  return code.toLowerCase().replace(/[\s-]/g, '');
}

/** Builds the helpers from the KEK material (`config.kek`). */
export function createMfaSecrets(kekMaterial: Uint8Array): MfaSecrets {
  const kek: Kek = createKek(kekMaterial);
  const hmacKey = Buffer.from(hkdfSync('sha256', kekMaterial, Buffer.alloc(0), 'jot recovery codes v1', 32));
  return {
    sealTotp: (secret, ids) => kek.seal(secret, aad(ids)),
    openTotp: (sealed, ids) => kek.open(sealed, aad(ids)),
    newRecoveryCodes() {
      return Array.from({ length: RECOVERY_CODE_COUNT }, () => {
        let raw = '';
        for (let i = 0; i < 13; i++) raw += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
        return `${raw.slice(0, 4)}-${raw.slice(4, 8)}-${raw.slice(8)}`;
      });
    },
    hashRecoveryCode(userId, code) {
      return createHmac('sha256', hmacKey)
        .update(`${userId}|${normaliseRecoveryCode(code)}`)
        .digest('hex');
    },
  };
}
