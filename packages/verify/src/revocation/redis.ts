/**
 * `strict` through Redis: every verification reads the central list from the Redis the Jot server mirrors its
 * revocations into (`JOT_REDIS_URL`), in one round trip — `MGET <ns>:rev:jti:<jti> <ns>:rev:sid:<sid>
 * <ns>:rev:user:<sub> <ns>:rev:complete` (`<ns>` the server's `JOT_REDIS_NAMESPACE`, `jot` by default) — and
 * applies the replicated strategy's rules (rules.ts) to the answer, so both strategies refuse a token with the same
 * code and reason. Redis expires the keys with the entries. The marker must be one the verifier's own deployment
 * wrote (redis-marker.ts).
 *
 * ioredis is loaded (dynamic import) only when `redis` is given as a URL; a client object is used as is, typed by
 * the one method called on it, so users of the other strategies never need ioredis. If Redis cannot answer within
 * `timeout` the request fails closed (503) unless `failOpen`; both are counted and logged once per outage.
 */
import { createRequire } from 'node:module';

import type { RedisNames } from '@jot/contract';

import { describeError } from '../http.js';
import { CentralCheck } from './central-check.js';
import type { AccessTokenClaims, Clock, Logger } from '../types.js';
import { ForeignMarker, MarkerTrust, MirrorRefusal } from './redis-marker.js';
import { checkRevocationFacts, userRule } from './rules.js';
import type { RevocationStats, RevocationStrategy } from './strategy.js';

/** The part of a Redis client the strict strategy uses: an ioredis `Redis` instance fits. */
export interface RedisClientLike {
  mget(...keys: string[]): Promise<(string | null)[]>;
}

/** Resolved settings of the Redis strict strategy. */
export interface RedisStrictSettings {
  /** A client (left open on `close`) or a `redis://` / `rediss://` URL (a client is created and closed here). */
  redis: RedisClientLike | string;
  /** The server's keys (`JOT_REDIS_NAMESPACE`). */
  names: RedisNames;
  /** The deployments whose completeness marker is trusted: an id, a non-empty list, or `'pin'` (the first marker's). */
  deployment: string | readonly string[];
  failOpen: boolean;
  timeoutMs: number;
  clock: Clock;
  logger: Logger;
  /**
   * Asked instead when Redis cannot answer or the mirror is not known to be complete (introspection, when a
   * `secret` is configured); without it such checks fail closed (or open, with `failOpen`).
   */
  fallback?: RevocationStrategy;
}

/**
 * Validates the `redis` option (`TypeError` on misuse). A client must not add a `keyPrefix` (the keys would never
 * match, and every token would pass) and must not be a Cluster (the three keys live in different slots).
 */
export function checkRedisOption(value: unknown): RedisClientLike | string {
  if (typeof value === 'string') {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new TypeError('verify: "revocation.redis" must be a redis:// or rediss:// URL, or a client');
    }
    if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
      throw new TypeError('verify: "revocation.redis" must be a redis:// or rediss:// URL, or a client');
    }
    try {
      createRequire(import.meta.url).resolve('ioredis');
    } catch {
      throw new TypeError(
        'verify: "revocation.redis" as a URL needs the ioredis package (npm install ioredis), or pass a client',
      );
    }
    return value;
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    typeof (value as { mget?: unknown }).mget !== 'function'
  ) {
    throw new TypeError('verify: "revocation.redis" must be a Redis client (with mget) or a redis:// URL');
  }
  const client = value as { isCluster?: unknown; options?: { keyPrefix?: unknown } };
  if (client.isCluster === true) {
    throw new TypeError('verify: "revocation.redis" must be a single Redis (the Jot server writes to one)');
  }
  if (typeof client.options?.keyPrefix === 'string' && client.options.keyPrefix !== '') {
    throw new TypeError(
      'verify: the "revocation.redis" client must not have a keyPrefix (the keys are the server\'s; name its ' +
        'JOT_REDIS_NAMESPACE in "revocation.namespace" instead)',
    );
  }
  return value as RedisClientLike;
}

interface OwnedClient extends RedisClientLike {
  on(event: 'error', listener: (err: Error) => void): unknown;
  disconnect(): void;
}

async function connect(url: string, onError: (err: Error) => void): Promise<OwnedClient> {
  const { Redis } = await import('ioredis');
  // No retries per command: a command queued while the connection is down fails at the next failed attempt
  // instead of waiting for Redis to return; `timeout` bounds the wait either way.
  const client = new Redis(url, { maxRetriesPerRequest: 0, enableAutoPipelining: true });
  client.on('error', onError);
  return client;
}

/** An incomplete mirror, an odd answer, or Redis refusing our credentials (ACL / AUTH errors). */
function isMirrorRefusal(err: unknown): boolean {
  return (
    err instanceof MirrorRefusal || (err instanceof Error && /^(NOAUTH|WRONGPASS|NOPERM)\b/.test(err.message))
  );
}

/** The refusal of a marker another deployment wrote: its own reason, and where to look. */
const FOREIGN_MARKER = {
  reason: 'deployment',
  message:
    "revocation status cannot be confirmed: the Redis revocation mirror was written by another deployment (see the verifier's log)",
} as const;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The user key holds a feed entry's `data` and `id`: `{ valid_after, ver, status, id }`. Anything else is an answer
 * we cannot read, a refusal (never failing open on it): whoever can write an odd value must not make revoked tokens
 * pass.
 */
function parseUserData(raw: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    data = undefined;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new MirrorRefusal('a <namespace>:rev:user value is not a JSON object');
  }
  return data as Record<string, unknown>;
}

/**
 * Reads the revocation list from Redis on every check.
 *
 * @example
 * // Usually built by createVerifier({ revocation: { strategy: 'strict', redis: process.env.JOT_REDIS_URL! } }).
 */
export class RedisRevocation implements RevocationStrategy {
  readonly #s: RedisStrictSettings;
  #client: Promise<RedisClientLike> | undefined;
  #owned: Promise<OwnedClient> | undefined;
  #closed = false;
  readonly #central: CentralCheck;
  readonly #trust: MarkerTrust;

  constructor(settings: RedisStrictSettings) {
    this.#s = settings;
    this.#central = new CentralCheck('redis', settings);
    this.#trust = new MarkerTrust(settings);
    if (typeof settings.redis !== 'string') this.#client = Promise.resolve(settings.redis);
  }

  ready(): Promise<void> {
    return this.#connection().then(() => undefined);
  }

  async check(claims: AccessTokenClaims, token: string): Promise<void> {
    let values: (string | null)[];
    let user: Record<string, unknown> | undefined;
    this.#central.started();
    try {
      values = await withTimeout(
        this.#connection().then((client) =>
          // A token without a session (a service's own) looks up an empty sid key, which never exists.
          client.mget(
            this.#s.names.jti(claims.jti),
            this.#s.names.sid(claims.sid ?? ''),
            this.#s.names.user(claims.sub),
            this.#s.names.complete,
          ),
        ),
        this.#s.timeoutMs,
      );
      if (!Array.isArray(values) || values.length !== 4)
        throw new MirrorRefusal('MGET did not answer four values');
      // An empty Redis (restarted, flushed) looks exactly like "nothing is revoked": only the marker tells a
      // complete mirror from a lost one — and only a marker of this verifier's deployment vouches for its list.
      this.#trust.check(values[3]);
      user = typeof values[2] === 'string' ? parseUserData(values[2]) : undefined;
      this.#central.answered();
    } catch (err) {
      if (this.#s.fallback !== undefined) {
        this.#central.noteError(describeError(err));
        return this.#s.fallback.check(claims, token);
      }
      // Redis answered, but not with a complete mirror (or refused our credentials): never failing open on it.
      if (err instanceof ForeignMarker) this.#central.refused(err, FOREIGN_MARKER);
      if (isMirrorRefusal(err)) this.#central.refused(err);
      this.#central.failed(err);
      return;
    }
    const jti = typeof values[0] === 'string';
    const sid = typeof values[1] === 'string';
    if (!jti && !sid && user === undefined) return;
    // Redis already dropped expired keys: whatever is present applies now. The replicated strategy's rules decide
    // (rules.ts), so the two strategies cannot drift apart on the rules, codes or reasons.
    checkRevocationFacts(
      claims,
      jti,
      sid && claims.sid !== undefined,
      user === undefined ? undefined : userRule(user),
    );
  }

  /**
   * Redis's counts, with the introspection fallback's decisions added: a fallback that fails open (or closed) while
   * the mirror is not trusted decides for this verifier, and must show in `failOpen` / `failClosed` and `stale`.
   */
  stats(): RevocationStats {
    const deployment = this.#trust.deployment;
    const own = this.#central.stats();
    const fallback = this.#s.fallback?.stats();
    return {
      ...own,
      ...(fallback === undefined
        ? {}
        : {
            stale: own.stale || fallback.stale,
            failOpen: own.failOpen + fallback.failOpen,
            failClosed: own.failClosed + fallback.failClosed,
            failures: (own.failures ?? 0) + (fallback.failures ?? 0),
          }),
      ...(deployment === undefined ? {} : { deployment }),
    };
  }

  /** Disconnects the client this strategy created from a URL; a client that was passed in stays open. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#s.fallback?.close();
    const owned = this.#owned;
    if (owned === undefined) return;
    this.#owned = undefined;
    this.#client = undefined;
    (await owned.catch(() => undefined))?.disconnect();
  }

  /** The client, created on first use from a URL (and created again if loading ioredis failed). */
  #connection(): Promise<RedisClientLike> {
    if (this.#client !== undefined) return this.#client;
    if (this.#closed || typeof this.#s.redis !== 'string') {
      return Promise.reject(new Error('the verifier is closed'));
    }
    const owned = connect(this.#s.redis, (err) => this.#central.noteError(err.message));
    this.#owned = owned;
    this.#client = owned.catch((err: unknown) => {
      this.#owned = undefined;
      this.#client = undefined;
      throw err;
    });
    return this.#client;
  }
}
