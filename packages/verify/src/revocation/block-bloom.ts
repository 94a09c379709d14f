/**
 * A blocked Bloom filter of 32-bit key hashes: the first, cache-resident step of `KeyFilter.mayHave`. At 1 M
 * revoked entries the exact hash tables take 16 MiB, more than the CPU caches keep for one process, so each of a
 * check's three probes would wait for memory; this filter takes a tenth of that (4 bits per table slot) and answers
 * "absent" for nearly every key that is, so the table is read only for the few that pass. Each hash sets one bit in
 * each of the four 32-bit words of one 16-byte block, so a lookup reads one cache line (a block never straddles one:
 * typed arrays are at least 16-byte aligned) and usually stops at its first word.
 *
 * Bits are never cleared: a removed hash leaves its bits set (a false "maybe", which the exact table answers), and the
 * owner rebuilds the filter from the hashes it holds when enough are stale. So `mayHave` is false only for a hash
 * never added since the last `clear`.
 */

/** Odd multipliers picking each word's bit from a hash (the salts of Parquet's split-block Bloom filter). */
const SALT0 = 0x47b6137b;
const SALT1 = 0x44974d91;
const SALT2 = 0x8824ad5b;
const SALT3 = 0xa2b7289d;

export class BlockBloom {
  readonly #words: Int32Array;
  readonly #blockMask: number;

  /** A filter of `blocks` 16-byte blocks (a power of two). */
  constructor(blocks: number) {
    this.#words = new Int32Array(blocks * 4);
    this.#blockMask = blocks - 1;
  }

  /** Bytes the filter occupies (outside the JS heap). */
  get bytes(): number {
    return this.#words.byteLength;
  }

  /** The share of bits set, 0..1: what decides the false-positive rate. */
  get fill(): number {
    let set = 0;
    for (const word of this.#words) {
      let w = word;
      while (w !== 0) {
        w &= w - 1;
        set += 1;
      }
    }
    return set / (this.#words.length * 32);
  }

  add(h: number): void {
    const words = this.#words;
    // The block from the hash's low bits, each word's bit from the top 5 bits of a product with all of it.
    const b = (h & this.#blockMask) << 2;
    words[b]! |= 1 << (Math.imul(h, SALT0) >>> 27);
    words[b + 1]! |= 1 << (Math.imul(h, SALT1) >>> 27);
    words[b + 2]! |= 1 << (Math.imul(h, SALT2) >>> 27);
    words[b + 3]! |= 1 << (Math.imul(h, SALT3) >>> 27);
  }

  /** False only when `h` was not added since the last `clear`. */
  mayHave(h: number): boolean {
    const words = this.#words;
    const b = (h & this.#blockMask) << 2;
    return (
      (words[b]! & (1 << (Math.imul(h, SALT0) >>> 27))) !== 0 &&
      (words[b + 1]! & (1 << (Math.imul(h, SALT1) >>> 27))) !== 0 &&
      (words[b + 2]! & (1 << (Math.imul(h, SALT2) >>> 27))) !== 0 &&
      (words[b + 3]! & (1 << (Math.imul(h, SALT3) >>> 27))) !== 0
    );
  }

  /** Forgets every hash (before a rebuild). */
  clear(): void {
    this.#words.fill(0);
  }
}
