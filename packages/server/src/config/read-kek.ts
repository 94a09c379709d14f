/**
 * The key-encryption key (`JOT_KEK`) that seals the signing keys at rest: configured — and, in production, strong —
 * or, outside production, a development key generated once and kept in the data directory.
 */
import type { Buffer } from 'node:buffer';

import { loadDevKek, parseKek, weakKek } from './kek.js';
import * as p from './parsers.js';
import type { SettingsReader } from './reader.js';

/** The key-encryption key: configured (and, in production, strong), or a development key kept in `dataDir`. */
export function readKek(
  { read, raw, fail, missing }: SettingsReader,
  production: boolean,
  dataDir: string,
): { kek: Buffer; kekGenerated: boolean } {
  const kek = read('kek', parseKek);
  if (kek !== undefined) {
    if (production && weakKek(kek)) {
      fail(
        'kek',
        raw('kek').source,
        'the key has too little entropy (all zeros, repeated or sequential bytes); use 32 random bytes (jot kek)',
      );
    }
    return { kek, kekGenerated: false };
  }
  if (production) missing('kek', 'a 32-byte key (base64url or hex) that encrypts the signing keys at rest');
  try {
    return { kek: loadDevKek(dataDir), kekGenerated: true };
  } catch (err) {
    if (err instanceof p.Invalid) fail('kek', undefined, err.message);
    throw err;
  }
}
