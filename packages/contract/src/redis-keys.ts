/**
 * The Redis names the server writes and `@jot/verify` (strict Redis mode) reads. The revocation mirror holds one
 * key per live entry — `jti` and `sid` keys with value `1`, `user` keys with a `UserRevocationState` as JSON —
 * each expiring with its entry.
 */
/** Revocation mirror keys and the channel new feed entries are published on. */
export const REDIS_KEYS = {
  jti: (jti: string): string => `jot:rev:jti:${jti}`,
  sid: (sid: string): string => `jot:rev:sid:${sid}`,
  /** Value: a `UserRevocationState` as JSON. */
  user: (userId: string): string => `jot:rev:user:${userId}`,
  /**
   * Present only while the mirror is known to hold every live entry: written by the server after a full copy and
   * kept alive by its publisher. Absent after Redis lost its data until the copy is done.
   */
  complete: 'jot:rev:complete',
  /** Pub/sub: each new entry as a feed entry in JSON. */
  channel: 'jot:revocations',
} as const;

/** Key prefixes of other shared state. */
export const REDIS_PREFIXES = {
  /** DPoP proof `jti`s seen within the replay window (RFC 9449 §11.1). */
  dpopReplay: 'jot:dpop:',
  /** Rate-limit counters. */
  rateLimit: 'jot:rl:',
} as const;
