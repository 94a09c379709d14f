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

/**
 * An in-memory store for one process, bounded: expired entries are dropped, and when it is full of live entries
 * the oldest live one goes. An entry lives as long as its proof's `iat` is acceptable, so an evicted proof is still
 * fresh and could be replayed once: someone able to send `maxEntries` proofs within the proof lifetime can push
 * another client's proof out. Use `redisReplayStore` (or the server's database store) for a single-use guarantee
 * that holds under such load and across instances.
 *
 * @example
 * const replay = memoryReplayStore({ maxEntries: 100_000 });
 */
export function memoryReplayStore(
  options: { maxEntries?: number; clock?: () => number } = {},
): DPoPReplayStore {
  const maxEntries = options.maxEntries ?? 100_000;
  const clock = options.clock ?? Date.now;
  const seen = new Map<string, number>();
  let lastSweepAt = -Infinity;
  return {
    claim(key, ttlMs) {
      const now = clock();
      const until = seen.get(key);
      if (until !== undefined && until > now) return Promise.resolve(false);
      // Expired entries from the oldest end, stopping at the first live one: O(1) per claim when every entry has
      // the same lifetime (one checker per store). Entries of mixed lifetimes can leave expired ones behind a live
      // one, so a full store sweeps them all first — at most once a second, not per claim (100,000 entries).
      for (const [k, expiry] of seen) {
        if (expiry > now) break;
        seen.delete(k);
      }
      if (seen.size >= maxEntries && Math.abs(now - lastSweepAt) >= 1000) {
        lastSweepAt = now;
        for (const [k, expiry] of seen) if (expiry <= now) seen.delete(k);
      }
      for (const k of seen.keys()) {
        if (seen.size < maxEntries) break;
        seen.delete(k);
      }
      seen.delete(key);
      seen.set(key, now + ttlMs);
      return Promise.resolve(true);
    },
  };
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
