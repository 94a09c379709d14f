/**
 * A `Map` keyed by strings with a `KeyFilter` beside it, for the revocation copy's maps: a lookup of a key that is
 * absent — nearly every lookup, since nearly every token is not revoked — is answered by the filter alone, so it
 * costs the same at 10 k entries as at 1 M (see key-filter.ts). Present keys are read from the map, exactly.
 */
import { KeyFilter, keyHash } from './key-filter.js';

export class FilteredMap<V> {
  readonly #map = new Map<string, V>();
  readonly #filter = new KeyFilter();

  get size(): number {
    return this.#map.size;
  }

  /** Bytes of the filter's table (outside the JS heap; the map's own memory is on the heap). */
  get filterBytes(): number {
    return this.#filter.bytes;
  }

  get(key: string): V | undefined {
    return this.#filter.mayHave(keyHash(key)) ? this.#map.get(key) : undefined;
  }

  set(key: string, value: V): void {
    const size = this.#map.size;
    this.#map.set(key, value);
    if (this.#map.size !== size) this.#filter.add(keyHash(key));
  }

  delete(key: string): boolean {
    if (!this.#map.delete(key)) return false;
    this.#filter.remove(keyHash(key));
    return true;
  }

  /** Deletes every entry `drop` returns true for; returns how many. */
  deleteWhere(drop: (value: V) => boolean): number {
    let dropped = 0;
    for (const [key, value] of this.#map) {
      if (drop(value)) {
        this.delete(key);
        dropped += 1;
      }
    }
    return dropped;
  }
}
