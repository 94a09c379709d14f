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
 * An in-memory store, bounded: expired entries are dropped from the oldest end, and when it is full the oldest go
 * even if live (which can only let an old, already stale proof through the `jti` check; its `iat` check still
 * refuses it).
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
  return {
    claim(key, ttlMs) {
      const now = clock();
      const until = seen.get(key);
      if (until !== undefined && until > now) return Promise.resolve(false);
      // From the oldest end only, stopping at the first live entry once there is room: a full store of live
      // entries costs one eviction per claim, not a scan of every entry (100,000 by default) per request.
      for (const [k, expiry] of seen) {
        if (expiry > now && seen.size < maxEntries) break;
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
