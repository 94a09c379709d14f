/**
 * A compact negative filter in front of the revocation maps: an open-addressed table of 32-bit key hashes in one
 * `Int32Array` (with a one-byte count per hash beside it). Almost every check is for a token that is *not* revoked, and a
 * `Map` answers that miss only after following several pointers (bucket, entry, key string) to places a large list
 * keeps out of the CPU caches; the table answers it from one slot (linear probing stays within a cache line), and
 * the three lookups of a check are independent loads the CPU overlaps. A hash that is present is only a "maybe":
 * the exact `Map` decides, so a collision costs one more lookup and never a wrong answer. Equal hashes share one
 * slot and a count, so keys that hash alike (however many) cannot grow a probe sequence; a count that reaches 255
 * sticks (the slot then stays a "maybe" for good, which only sends those lookups to the map). Deletion shifts later
 * slots back (no tombstones), so the table never fills with dead slots however much the list churns.
 *
 * At 1 M entries the tables (16 MiB) outgrow the CPU caches, so a blocked Bloom filter a tenth their size
 * (block-bloom.ts) answers first, and only the hashes it passes are looked up in the table. It is rebuilt from the
 * table whenever the table is resized, and when the hashes removed since the last rebuild (whose bits stay set)
 * reach an eighth of the slots, which bounds its false "maybe"s and costs O(1) per removal amortised.
 */
import { BlockBloom } from './block-bloom.js';

/** A count that has reached this stays: the slot keeps answering "maybe". */
const STUCK = 255;

/** Smallest table once a hash is added: 1,024 slots. An empty filter holds no table at all. */
const MIN_SLOTS = 1 << 10;

/** Table slots per Bloom block: 4 filter bits per slot, so 8–32 bits per distinct hash at the table's loads. */
const SLOTS_PER_BLOCK = 32;

/** Characters hashed from the end of a key: see `keyHash`. */
const SAMPLED = 8;

/**
 * The length and the last 8 UTF-16 code units of `key`, two per multiply (FNV-style), then murmur3's finaliser so
 * the low bits (the slot) depend on all of them. Jot's ids end in random characters (`jti`: 16 random bytes in
 * base64url; session and user ids: random UUIDs), so 8 of them are 32–48 random bits, and hashing them costs a
 * quarter of hashing a whole UUID — which matters, as this runs three times per verified token. A key that shares
 * its length and last 8 characters with another (an operator-chosen client id, say) only shares its slot: its
 * lookups go to the exact map, as every lookup did before the filter. Never 0: 0 marks an empty slot.
 */
export function keyHash(key: string): number {
  const n = key.length;
  let h = Math.imul(0x811c9dc5 ^ n, 0x01000193);
  let i = n > SAMPLED ? n - SAMPLED : 0;
  for (; i + 1 < n; i += 2)
    h = Math.imul(h ^ (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)), 0x01000193);
  if (i < n) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return h === 0 ? 1 : h;
}

/**
 * A multiset of key hashes: `add` once per key that enters a map, `remove` once per key that leaves it (the maps
 * know which), `mayHave` false only when no key with that hash is present.
 */
export class KeyFilter {
  // No table until the first add: a list that never holds an entry of one kind (no users revoked, say) costs nothing
  // for that kind's map.
  #hashes = new Int32Array(0);
  #counts = new Uint8Array(0);
  #mask = 0;
  #bloom = new BlockBloom(0);
  /** Distinct hashes removed since the Bloom filter was last built: their bits are still set. */
  #stale = 0;
  /** Slots in use (distinct hashes). */
  #used = 0;
  /** Occurrences held (adds not yet removed). */
  #size = 0;

  /** Hashes held, counting repeats (each `add` not yet removed). */
  get size(): number {
    return this.#size;
  }

  /** Bytes the table occupies (outside the JS heap). */
  get bytes(): number {
    return this.#hashes.byteLength + this.#counts.byteLength + this.#bloom.bytes;
  }

  /** The share of the Bloom filter's bits that are set (0..1), which decides how often the table is read. */
  get prefilterFill(): number {
    return this.#bloom.fill;
  }

  /** False when no key with hash `h` was added (and not removed); true means "look in the map". */
  mayHave(h: number): boolean {
    if (this.#used === 0 || !this.#bloom.mayHave(h)) return false;
    const hashes = this.#hashes;
    const mask = this.#mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = hashes[i]!;
      if (v === h) return true;
      if (v === 0) return false;
    }
  }

  /** Adds one occurrence of `h` (a hash from `keyHash`); the table doubles past half full. */
  add(h: number): void {
    if (this.#hashes.length === 0) this.#resize(MIN_SLOTS);
    const i = this.#slotOf(h);
    this.#size += 1;
    if (this.#hashes[i] === h) {
      if (this.#counts[i]! < STUCK) this.#counts[i]! += 1;
      return;
    }
    this.#hashes[i] = h;
    this.#counts[i] = 1;
    this.#bloom.add(h);
    this.#used += 1;
    if (this.#used * 2 > this.#hashes.length) this.#resize(this.#hashes.length * 2);
  }

  /** Removes one occurrence of `h`; a no-op when there is none. Shrinks when an eighth full. */
  remove(h: number): void {
    if (this.#used === 0) return;
    let i = this.#slotOf(h);
    const hashes = this.#hashes;
    const counts = this.#counts;
    if (hashes[i] !== h) return;
    this.#size -= 1;
    if (counts[i] === STUCK || (counts[i]! -= 1) > 0) return;
    // Backward-shift deletion: move each later member of the cluster into the hole when its home slot does not
    // lie (cyclically) after the hole and up to where it sits, so every member stays reachable from its home.
    const mask = this.#mask;
    for (let j = (i + 1) & mask; hashes[j] !== 0; j = (j + 1) & mask) {
      const home = hashes[j]! & mask;
      const reachable = i <= j ? home > i && home <= j : home > i || home <= j;
      if (!reachable) {
        hashes[i] = hashes[j]!;
        counts[i] = counts[j]!;
        i = j;
      }
    }
    hashes[i] = 0;
    counts[i] = 0;
    this.#used -= 1;
    this.#stale += 1;
    if (hashes.length > MIN_SLOTS && this.#used * 8 < hashes.length) this.#resize(hashes.length / 2);
    else if (this.#stale * 8 > hashes.length) this.#rebuildBloom();
  }

  /** The slot holding `h`, or the empty slot where it would go. */
  #slotOf(h: number): number {
    const hashes = this.#hashes;
    const mask = this.#mask;
    let i = h & mask;
    while (hashes[i] !== 0 && hashes[i] !== h) i = (i + 1) & mask;
    return i;
  }

  #resize(length: number): void {
    const hashes = this.#hashes;
    const counts = this.#counts;
    this.#hashes = new Int32Array(length);
    this.#counts = new Uint8Array(length);
    this.#mask = length - 1;
    for (let j = 0; j < hashes.length; j += 1) {
      if (hashes[j] === 0) continue;
      const i = this.#slotOf(hashes[j]!);
      this.#hashes[i] = hashes[j]!;
      this.#counts[i] = counts[j]!;
    }
    this.#rebuildBloom();
  }

  /** Sets the Bloom filter to exactly the hashes the table holds, sized for the table. */
  #rebuildBloom(): void {
    const blocks = this.#hashes.length / SLOTS_PER_BLOCK;
    if (this.#bloom.bytes === blocks * 16) this.#bloom.clear();
    else this.#bloom = new BlockBloom(blocks);
    const hashes = this.#hashes;
    for (let i = 0; i < hashes.length; i += 1) if (hashes[i] !== 0) this.#bloom.add(hashes[i]!);
    this.#stale = 0;
  }
}
