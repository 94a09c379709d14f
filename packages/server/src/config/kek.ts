/**
 * The key-encryption key (KEK) that protects private signing keys at rest. Production must supply it;
 * development gets one generated once into `<dataDir>/dev-kek` (mode 0600) so restarts can still decrypt
 * their keys, and the server is told so it can warn that this is not a production setup.
 */
import { Buffer } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Invalid } from './parsers.js';

/** The KEK size: AES-256. */
export const KEK_BYTES = 32;

/** Name of the development KEK file inside the data directory. */
export const DEV_KEK_FILE = 'dev-kek';

/** Decodes a KEK given as 64 hex characters or 43 base64url characters (standard base64 also accepted). */
export function parseKek(value: unknown): Buffer {
  const s = typeof value === 'string' ? value.trim() : '';
  let key: Buffer | undefined;
  if (/^[0-9a-f]{64}$/i.test(s)) key = Buffer.from(s, 'hex');
  else if (/^[A-Za-z0-9_-]{43}$/.test(s) || /^[A-Za-z0-9+/]{43}=$/.test(s)) key = Buffer.from(s, 'base64');
  if (key?.length !== KEK_BYTES) {
    throw new Invalid(
      `expected ${KEK_BYTES} random bytes as base64url (43 characters) or hex (64 characters)`,
    );
  }
  return key;
}

/**
 * Whether a 32-byte key is obviously not random: fewer than 16 distinct byte values (all zeros, a repeated byte or a
 * short repeated pattern; 32 random bytes have about 30) or an arithmetic sequence (00 01 02 …). Production refuses
 * such a key.
 */
export function weakKek(key: Buffer): boolean {
  if (new Set(key).size < 16) return true;
  const step = (key[1]! - key[0]! + 256) % 256;
  return key.every((byte, i) => i === 0 || (byte - key[i - 1]! + 256) % 256 === step);
}

/**
 * Reads `<dataDir>/dev-kek`, creating it (mode 0600, directory 0700) with a fresh random key when missing.
 * Creation uses an exclusive open, so two processes starting at once end up sharing one key.
 */
export function loadDevKek(dataDir: string): Buffer {
  const path = join(dataDir, DEV_KEK_FILE);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${randomBytes(KEK_BYTES).toString('base64url')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if (!(err instanceof Error && 'code' in err && err.code === 'EEXIST')) throw err;
  }
  try {
    return parseKek(readFileSync(path, 'utf8'));
  } catch (err) {
    if (err instanceof Invalid)
      throw new Invalid(`the development key file ${path} is corrupt; delete it or ${err.message}`);
    throw err;
  }
}
