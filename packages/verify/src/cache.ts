/**
 * The optional verification cache: full token → verified claims, until `exp`, at most `maxEntries` (least recently
 * used dropped first). Keyed on the whole token text, never a prefix or the signature (fast-jwt's cache-key
 * collision returned another user's claims). It only saves the signature and claim work: revocation is still
 * checked on every hit, and revocations, resets and removed keys also evict entries. An entry records the RFC 7638
 * thumbprint of the key that verified it, so a key replaced under the same `kid` still evicts its tokens.
 */
import { RecencyMap } from './recency-map.js';
import type { FeedEntry } from './revocation/state.js';
import type { AccessTokenClaims } from './types.js';

interface CachedToken {
  readonly claims: AccessTokenClaims;
  /** RFC 7638 thumbprint of the verifying key. */
  readonly thumbprint: string;
}

/** What an entry is estimated to hold besides its token's text: the claims object and the map's slot. */
const ENTRY_OVERHEAD_BYTES = 1024;

/** Counters of the cache. */
export interface CacheStats {
  readonly size: number;
  /** Estimated bytes held: each entry's token length plus `ENTRY_OVERHEAD_BYTES`. */
  readonly bytes: number;
  readonly hits: number;
  readonly misses: number;
  readonly evictions: number;
}

/**
 * A bounded cache of verified tokens, the least recently used dropped first (`RecencyMap`: a hot token costs no
 * reordering on every hit). Two bounds: `maxEntries`, and `maxBytes` of estimated memory — without the second, a
 * client that can mint or re-encrypt many valid long tokens (a JWE may be 16 KiB) would hold `maxEntries` of them.
 *
 * @example
 * const cache = new VerificationCache(10_000);
 * cache.set(token, claims, keyThumbprint(key));
 * cache.get(token, Date.now() / 1000);
 */
export class VerificationCache {
  readonly #entries: RecencyMap<string, CachedToken>;
  #hits = 0;
  #misses = 0;
  #evictions = 0;

  constructor(maxEntries: number, maxBytes = Infinity) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new TypeError('verify: "cache.maxEntries" must be a positive integer');
    }
    if (maxBytes !== Infinity && (!Number.isSafeInteger(maxBytes) || maxBytes < 64 * 1024)) {
      throw new TypeError('verify: "cache.maxBytes" must be an integer of at least 65536');
    }
    this.#entries = new RecencyMap(maxEntries, maxBytes);
  }

  /** The claims of a cached, unexpired token (`now` in epoch seconds). */
  get(token: string, now: number): AccessTokenClaims | undefined {
    const entry = this.#entries.get(token);
    if (entry === undefined) {
      this.#misses += 1;
      return undefined;
    }
    if (entry.claims.exp <= now) {
      this.#entries.delete(token);
      this.#misses += 1;
      return undefined;
    }
    this.#hits += 1;
    return entry.claims;
  }

  /** Caches verified claims with the thumbprint of the key that verified them. */
  set(token: string, claims: AccessTokenClaims, thumbprint: string): void {
    this.#evictions += this.#entries.set(token, { claims, thumbprint }, token.length + ENTRY_OVERHEAD_BYTES);
  }

  /** Drops the tokens a revocation entry covers; everything on `'reset'`. */
  revoke(entry: FeedEntry | 'reset'): void {
    if (entry === 'reset') {
      this.clear();
      return;
    }
    const field = entry.kind === 'jti' ? 'jti' : entry.kind === 'sid' ? 'sid' : 'sub';
    this.#drop((cached) => cached.claims[field] === entry.subject);
  }

  /** Drops tokens verified with keys the issuer no longer publishes (by RFC 7638 thumbprint). */
  removeKeys(thumbprints: readonly string[]): void {
    const gone = new Set(thumbprints);
    this.#drop((cached) => gone.has(cached.thumbprint));
  }

  clear(): void {
    this.#evictions += this.#entries.size;
    this.#entries.clear();
  }

  stats(): CacheStats {
    return {
      size: this.#entries.size,
      bytes: this.#entries.weight,
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
    };
  }

  #drop(matches: (cached: CachedToken) => boolean): void {
    for (const [token, cached] of this.#entries.entries()) {
      if (matches(cached)) {
        this.#entries.delete(token);
        this.#evictions += 1;
      }
    }
  }
}
