/**
 * Where proof `jti`s are remembered for the replay check (RFC 9449 §11.1): one process's memory, or Redis
 * (`SET … NX PX`, atomic across every instance). The server adds its database as a third place.
 */

/** Remembers single-use keys. */
export interface DPoPReplayStore {
  /** True when `key` was not seen within `ttlMs` (and is now remembered); false for a replay. */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

/** The part of an ioredis-like client used here. */
export interface RedisSetNX {
  set(key: string, value: string, px: 'PX', ttlMs: number, nx: 'NX'): Promise<string | null>;
}

/** The default bound of `memoryReplayStore`: live proofs remembered at once. */
export const MEMORY_REPLAY_MAX_ENTRIES = 100_000;

/**
 * An in-memory store for one process, bounded without ever forgetting a live entry: expired entries are reclaimed,
 * and while it holds `maxEntries` live ones a new key is refused — `claim` rejects (not a `false`, which would read as
 * a replay), so a checker over it fails the request instead of accepting it (`@jot/verify` answers 503
 * `ERR_VERIFY_UNAVAILABLE`, `reason` `dpop`). Evicting a live entry instead would let anyone able to send `maxEntries`
 * proofs within a proof's lifetime push another client's captured proof out and replay it. An entry lives as long as
 * its proof is acceptable (`maxAge + 2 × clockTolerance` + 1 s), so `maxEntries` bounds the proofs accepted per
 * lifetime: about 1,400 a second at the default 100,000 and a 60 s max age (71 s). Each process has its own store, so
 * with several instances one proof is accepted once per instance: use `redisReplayStore` (or the server's database
 * store) for a single-use guarantee across instances.
 *
 * Entries are also kept in a min-heap by expiry: a claim costs O(log n) (17 steps at 100,000 entries), reclaiming an
 * expired entry the same — no scan of the whole store, and an expired entry is reclaimed to the millisecond, so a
 * full store takes a new proof as soon as one of its entries expires.
 *
 * @example
 * const replay = memoryReplayStore({ maxEntries: 100_000 });
 */
export function memoryReplayStore(
  options: { maxEntries?: number; clock?: () => number } = {},
): DPoPReplayStore {
  const maxEntries = options.maxEntries ?? MEMORY_REPLAY_MAX_ENTRIES;
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    const given = typeof maxEntries === 'number' ? String(maxEntries) : `a ${typeof maxEntries}`;
    throw new TypeError(
      `memoryReplayStore: maxEntries must be a positive integer (live proofs remembered at once), not ${given}`,
    );
  }
  const clock = options.clock ?? Date.now;
  /** Key → epoch ms its entry expires at; the heap holds the same entries, so `seen.size` is the store's size. */
  const seen = new Map<string, number>();
  const byExpiry = new ExpiryHeap();
  return {
    claim(key, ttlMs) {
      const now = clock();
      const until = seen.get(key);
      if (until !== undefined && until > now) return Promise.resolve(false);
      // Every expired entry, this key's own included: each was pushed once and leaves once.
      for (let at = byExpiry.peek(); at !== undefined && at <= now; at = byExpiry.peek()) {
        seen.delete(byExpiry.pop());
      }
      if (seen.size >= maxEntries) {
        return Promise.reject(
          new Error(
            `DPoP replay store full: ${maxEntries} live proofs are remembered in this process (maxEntries), so no ` +
              'new one is accepted until one expires (a full store never forgets a live proof, which could then ' +
              'be replayed); raise maxEntries or remember proofs in Redis',
          ),
        );
      }
      const expiry = now + ttlMs;
      seen.set(key, expiry);
      byExpiry.push(expiry, key);
      return Promise.resolve(true);
    },
  };
}

/** A binary min-heap of keys by their expiry (epoch ms), in two parallel arrays. */
class ExpiryHeap {
  readonly #at: number[] = [];
  readonly #keys: string[] = [];

  /** The earliest expiry, if any. */
  peek(): number | undefined {
    return this.#at[0];
  }

  push(at: number, key: string): void {
    const ats = this.#at;
    const keys = this.#keys;
    let i = ats.length;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (ats[parent]! <= at) break;
      ats[i] = ats[parent]!;
      keys[i] = keys[parent]!;
      i = parent;
    }
    ats[i] = at;
    keys[i] = key;
  }

  /** Removes the entry of the earliest expiry and returns its key; only when `peek()` is defined. */
  pop(): string {
    const ats = this.#at;
    const keys = this.#keys;
    const top = keys[0]!;
    const at = ats.pop()!;
    const key = keys.pop()!;
    const size = ats.length;
    if (size === 0) return top;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && ats[child + 1]! < ats[child]!) child += 1;
      if (ats[child]! >= at) break;
      ats[i] = ats[child]!;
      keys[i] = keys[child]!;
      i = child;
    }
    ats[i] = at;
    keys[i] = key;
    return top;
  }
}

/**
 * A Redis store: one `SET key 1 PX ttl NX` per proof, so of two instances seeing the same proof exactly one wins.
 *
 * @example
 * const replay = redisReplayStore(new Redis(url), 'jot:dpop:');
 */
export function redisReplayStore(redis: RedisSetNX, prefix = 'jot:dpop:'): DPoPReplayStore {
  return {
    async claim(key, ttlMs) {
      return (await redis.set(prefix + key, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
    },
  };
}
