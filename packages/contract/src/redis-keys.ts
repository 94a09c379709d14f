/**
 * The Redis names the server writes and `@jot/verify` (strict Redis mode) reads, all under one namespace
 * (`JOT_REDIS_NAMESPACE`, default `jot`) so that several deployments can share one Redis: each deployment's
 * revocation mirror, completeness marker, channel, rate-limit counters and DPoP replay keys stay its own (Redis
 * database numbers do not separate pub/sub channels, and a managed Redis often has only database 0).
 *
 * The revocation mirror holds one key per live entry — `jti` and `sid` keys with value `1`, `user` keys with a
 * `UserRevocationState` as JSON — each expiring with its entry.
 */

/** The namespace the server and the verifier use unless told otherwise. */
export const DEFAULT_REDIS_NAMESPACE = 'jot';

/** What a namespace may be: 1–64 characters, letters, digits and `_ . : -`, starting with a letter or digit. */
const NAMESPACE = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$/;

/** The first parts of the names inside a namespace: no later part of a namespace may be one of them. */
const RESERVED_PARTS: ReadonlySet<string> = new Set(['rev', 'revocations', 'rl', 'dpop']);

/** Why `namespace` cannot name a Redis namespace, or undefined when it can. */

export function redisNamespaceProblem(namespace: unknown): string | undefined {
  if (typeof namespace !== 'string') return 'expected a string';
  if (namespace.endsWith(':'))
    return 'expected the namespace without a trailing ":" (keys are "<namespace>:…")';
  if (!NAMESPACE.test(namespace)) {
    return 'expected 1–64 characters: letters, digits and _ . : - (starting with a letter or digit)';
  }
  // "a:rev:jti" would hold its keys inside namespace "a"'s ("a:rev:jti:…"): a clean-up or copy of one would reach
  // the other's.
  const nested = namespace
    .split(':')
    .slice(1)
    .find((part) => RESERVED_PARTS.has(part));
  if (nested !== undefined) {
    return `expected no ":${nested}" part (it names keys inside another namespace: "<namespace>:${nested}…")`;
  }
  return undefined;
}

/** The Redis keys, key prefixes and channel of one namespace. */
export interface RedisNames {
  /** The namespace the names are under. */
  readonly namespace: string;
  /** A revoked token id: value `1`. */
  jti(jti: string): string;
  /** A revoked session: value `1`. */
  sid(sid: string): string;
  /** A user's revocation state: a `UserRevocationState` as JSON. */
  user(userId: string): string;
  /**
   * Present only while the mirror is known to hold every live entry: written by the server after a full copy and
   * kept alive by its publisher. Absent after Redis lost its data until the copy is done. Its value is a
   * `CompletenessMarker` as JSON (redis-marker.ts), naming the deployment that wrote it.
   */
  readonly complete: string;
  /** The sentinel a full copy takes first (`id` is the copy's own); its value is the copy epoch it started in. */
  copying(id: string): string;
  /**
   * The copy epoch: raised each time the mirror is emptied (the database went back), so a copy that started before
   * never writes the marker over a list emptied under it.
   */
  readonly epoch: string;
  /**
   * The feed cursor the marker last vouched for, kept without expiry (`{ id, tag?, createdAt? }` as JSON): a
   * database found not to have handed it out went back, and the mirror holds entries it no longer has.
   */
  readonly mirrored: string;
  /**
   * The deployments writing the mirror (a sorted set of deployment ids by last write): more than one means two
   * deployments share the namespace, and no completeness marker is written.
   */
  readonly writers: string;
  /** Pub/sub: each new entry as a feed entry in JSON. */
  readonly channel: string;
  /** Prefix of the DPoP proof `jti`s seen within the replay window (RFC 9449 §11.1). */
  readonly dpopReplay: string;
  /** Prefix of the rate-limit counters. */
  readonly rateLimit: string;
}

/** The names under `namespace` (checked: throws a `TypeError` naming the problem). */
export function redisNames(namespace: string = DEFAULT_REDIS_NAMESPACE): RedisNames {
  const problem = redisNamespaceProblem(namespace);
  if (problem !== undefined) throw new TypeError(`Redis namespace ${JSON.stringify(namespace)}: ${problem}`);
  const p = `${namespace}:`;
  return Object.freeze({
    namespace,
    jti: (jti: string): string => `${p}rev:jti:${jti}`,
    sid: (sid: string): string => `${p}rev:sid:${sid}`,
    user: (userId: string): string => `${p}rev:user:${userId}`,
    complete: `${p}rev:complete`,
    copying: (id: string): string => `${p}rev:copying:${id}`,
    epoch: `${p}rev:epoch`,
    mirrored: `${p}rev:mirrored`,
    writers: `${p}rev:writers`,
    channel: `${p}revocations`,
    dpopReplay: `${p}dpop:`,
    rateLimit: `${p}rl:`,
  });
}
