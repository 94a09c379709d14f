/**
 * The key ring as this instance holds it: the stored signing keys, opened (private halves unsealed under the KEK)
 * and sorted oldest first. Re-reading it reuses the keys already opened, so a reload costs no decryption unless a
 * key changed.
 */
import type { JWK, Key } from '@jot/jose';

import type { SigningKeyRecord, Store } from '../store/index.js';
import type { Kek } from './kek.js';
import { openSigningKey, publicJwkOf } from './sealed-key.js';
import { compareAge } from './timeline.js';

/** A stored signing key, opened. */
export interface LoadedKey extends SigningKeyRecord {
  key: Key;
  /** Undefined for HMAC secrets, which are never published. */
  jwk: JWK | undefined;
  /** The key that verifies: the public half, or the secret itself. */
  verifier: Key;
}

/** The ring and how to read it again. */
export interface KeyRing {
  /** The keys this instance signs and verifies with, oldest first. */
  current(): LoadedKey[];
  /** Reads the ring through `source` (the store, or the locked transaction changing it) without adopting it. */
  load(source: Store): Promise<LoadedKey[]>;
  /** Makes the committed ring the one this instance signs and verifies with (never an older read over a newer). */
  reload(): Promise<void>;
}

/** An empty ring over the store; `reload()` fills it. */
export function createKeyRing(store: Store, kek: Kek): KeyRing {
  let keys: LoadedKey[] = [];

  async function load(source: Store): Promise<LoadedKey[]> {
    const previous = new Map(keys.map((k) => [k.kid, k]));
    const records = await source.listSigningKeys();
    return records
      .map((record): LoadedKey => {
        const known = previous.get(record.kid);
        if (
          known !== undefined &&
          known.alg === record.alg &&
          known.privateKeyCiphertext === record.privateKeyCiphertext
        ) {
          return { ...record, key: known.key, jwk: known.jwk, verifier: known.verifier };
        }
        const key = openSigningKey(kek, record);
        return {
          ...record,
          key,
          jwk: key.type === 'secret' ? undefined : publicJwkOf(key),
          verifier: key.type === 'secret' ? key : key.publicKey(),
        };
      })
      .sort(compareAge);
  }

  // Reloads may overlap (a refresh does not wait for a rotation under the lock): a read that started before another
  // one already adopted must not put the older ring back.
  let started = 0;
  let adopted = 0;
  return {
    current: () => keys,
    load,
    async reload() {
      const generation = ++started;
      const loaded = await load(store);
      if (generation < adopted) return;
      adopted = generation;
      keys = loaded;
    },
  };
}
