/**
 * The options of `createVerifier`, validated once: a misconfigured verifier is a `TypeError` at start, never an
 * "invalid token" later. Also builds the chosen revocation strategy over lazily discovered endpoints.
 */
import type { DecryptionOptions } from './decrypt.js';
import type { DPoPOptions } from './dpop.js';
import {
  deploymentIdProblem,
  ENDPOINTS,
  FEED_RETENTION_SLACK_SECONDS,
  redisNames,
  redisNamespaceProblem,
  type RedisNames,
} from '@jot/contract';
import { ALGORITHMS, type Algorithm } from '@jot/jose';

import type { ClaimsProfile } from './claims.js';
import { VERIFIER_DEFAULTS } from './defaults.js';
import { discoverIssuer, type IssuerMetadata } from './discovery.js';
import { untilClosed } from './http.js';
import { toMillis, type Duration } from './duration.js';
import { checkRedisOption, RedisRevocation, type RedisClientLike } from './revocation/redis.js';
import { PIN_FIRST } from './revocation/redis-marker.js';
import { ReplicatedRevocation } from './revocation/replicated.js';
import type { OffloadMode } from './offload.js';
import { checkOptionNames } from './option-names.js';
import { noRevocation, type RevocationStrategy } from './revocation/strategy.js';
import { IntrospectionRevocation } from './revocation/strict.js';
import type { Clock, FetchLike, Logger } from './types.js';

/** `replicated`: a local copy of the revocation list kept current from the issuer's feed. */
export interface ReplicatedRevocationOptions {
  strategy: 'replicated';
  /** The feed credential (the server's `JOT_REVOCATION_SECRET`). */
  secret: string;
  /** @default discovered `revocation_feed_endpoint`, else `<issuer>/api/revocations` */
  feedUrl?: string;
  /** @default discovered `revocation_stream_endpoint`, else `<issuer>/api/revocations/stream` */
  streamUrl?: string;
  /** Reject (or, with `failOpen`, accept) when the copy is older than this. @default '30s' */
  maxStaleness?: Duration;
  /**
   * Accept tokens not known to be revoked when the copy is stale because the feed is unreachable. Never when the feed
   * refused the verifier (4xx, a redirect, not a feed answer): `ERR_VERIFY_REVOCATION_REFUSED`.
   * @default false (fail closed)
   */
  failOpen?: boolean;
  /**
   * A connected stream silent for this long is treated as dead and reconnected; also bounds the wait for the
   * stream's response. At most `maxStaleness` (a `TypeError` otherwise); keep it above the server's heartbeat
   * interval (a comment line every 5 s). @default two thirds of `maxStaleness`, at most '45s' (20 s with the default `maxStaleness`)
   */
  heartbeatTimeout?: Duration;
  /** Reconnect backoff bounds. @default { min: '250ms', max: '30s' } */
  reconnectDelay?: { min?: Duration; max?: Duration };
  /** How often expired entries are dropped. @default '60s' */
  pruneInterval?: Duration;
  /** Timeout of each snapshot request. @default '10s' */
  timeout?: Duration;
}

/** `strict` through introspection: ask the issuer's introspection endpoint (RFC 7662) on every verification. */
export interface StrictIntrospectionOptions {
  strategy: 'strict';
  /** The introspection credential (the server's `JOT_REVOCATION_SECRET`). */
  secret: string;
  /** @default discovered `introspection_endpoint`, else `<issuer>/api/introspect` */
  introspectionUrl?: string;
  redis?: never;
  namespace?: never;
  deployment?: never;
  /**
   * Accept verified tokens when the endpoint is unreachable (no answer, 500/502/503/504/408). An answer that refuses
   * (4xx, a redirect, not an introspection answer) always fails closed (`ERR_VERIFY_REVOCATION_REFUSED`).
   * @default false
   */
  failOpen?: boolean;
  /** @default '2s' */
  timeout?: Duration;
}

/** `strict` through Redis: read the list the server mirrors into Redis (`JOT_REDIS_URL`) on every verification. */
export interface StrictRedisOptions {
  strategy: 'strict';
  /**
   * The server's Redis: a client (an ioredis `Redis`, without `keyPrefix`; left open by `close()`), or its URL
   * (`redis://…`, needs the `ioredis` package; the verifier creates and closes the client).
   */
  redis: RedisClientLike | string;
  /**
   * The server's `JOT_REDIS_NAMESPACE`: the keys read are `<namespace>:rev:jti:<jti>`, `<namespace>:rev:sid:<sid>`,
   * `<namespace>:rev:user:<sub>` and the marker `<namespace>:rev:complete`.
   * @default 'jot'
   */
  namespace?: string;
  /**
   * Whose mirror to trust: the server's deployment id (16 characters; the server logs it at start and
   * `jot redis deployment-id` prints it, from `JOT_KEK` and `JOT_ISSUER`), or a non-empty list of ids, each trusted —
   * to trust the id of a new `JOT_KEK` or `JOT_ISSUER` before the servers move to it (add it, roll the servers, then
   * drop the old one). A completeness marker written by another deployment sharing the namespace — say after Redis
   * restarted empty and the other one copied first — or by a server of an earlier version (which names none) counts
   * as no marker: refused with `ERR_VERIFY_REVOCATION_REFUSED`, `reason` `deployment`, or asked of the introspection
   * fallback. `'pin'` (alone, never in a list): trust the deployment of the first marker read, for as long as this
   * verifier runs (a restart pins again; set the id to be safe from the first request on).
   * @default 'pin'
   */
  deployment?: string | readonly string[];
  /**
   * The introspection credential, to fall back on introspection whenever Redis cannot answer or its mirror is not
   * known to be complete (the server writes `<namespace>:rev:complete` after a full copy; a Redis that lost its data has
   * none). Without it an unreachable Redis fails closed (or open, with `failOpen`); an incomplete mirror or refused
   * Redis credentials always fail closed (`ERR_VERIFY_REVOCATION_REFUSED`).
   */
  secret?: string;
  /** Where to introspect when falling back. @default discovered `introspection_endpoint`, else `<issuer>/api/introspect` */
  introspectionUrl?: string;
  /** Accept verified tokens when neither Redis nor the fallback answers (an outage, never a refusal). @default false */
  failOpen?: boolean;
  /** Bound on each Redis round trip. @default '500ms' */
  timeout?: Duration;
}

/** `strict`: check the central list on every verification, through Redis or the introspection endpoint. */
export type StrictRevocationOptions = StrictIntrospectionOptions | StrictRedisOptions;

/** Options of `createVerifier`. Durations are seconds or strings such as `"500ms"`, `"2s"` (`@jot/jose`'s parser). */
export interface VerifierOptions {
  /** The issuer URL; `iss` must equal it exactly, and metadata is discovered from it. */
  issuer: string;
  /** This resource server's audience; `aud` must contain one of these. */
  audience: string | readonly string[];
  /**
   * Which claims a token must carry. `'jot'` (default): Jot's user tokens — `sub`, `iat`, `jti`, `exp`, `sid`,
   * `ver`, `auth_time`. `'rfc9068'`: any RFC 9068 access token (`typ: at+jwt`) from any issuer — `iss`, `exp`,
   * `aud`, `sub`, `client_id`, `iat`, `jti` — including a Jot service's client-credentials token, which has no
   * session. @default 'jot'
   */
  profile?: ClaimsProfile;
  /** Accepted algorithms. HMAC is refused (its keys are never published). @default every asymmetric algorithm */
  algorithms?: readonly Algorithm[];
  /** @default discovered from the issuer's metadata */
  jwksUri?: string;
  /** How logouts reach this service. `'none'`: only the token lifetime bounds them. */
  revocation: 'none' | ReplicatedRevocationOptions | StrictRevocationOptions | RevocationStrategy;
  /** The remote JWKS cache. */
  jwks?: {
    cooldown?: Duration;
    minCacheAge?: Duration;
    maxCacheAge?: Duration;
    defaultCacheAge?: Duration;
    timeout?: Duration;
    /**
     * How long past its lifetime (`Cache-Control: max-age`, clamped) the cached key set keeps verifying while it
     * cannot be refreshed (the JWKS endpoint down). Past it the set is dropped, its cached verifications with it, and
     * tokens are refused (503 `ERR_VERIFY_KEYS_UNAVAILABLE`, `reason` `stale`) until a fetch succeeds: a key the
     * issuer withdrew meanwhile is trusted for a bounded time only. @default '1h'
     */
    maxStale?: Duration;
  };
  /**
   * Verification cache (token → claims until `exp`, LRU; revocation is still checked on every hit). `false` turns
   * it off. Bounded by a count and by estimated bytes (each entry: its token's length plus 1 KiB for its claims),
   * whichever is reached first. @default { maxEntries: 10_000, maxBytes: 33_554_432 } (32 MiB; about 15 MB with
   * typical tokens, where `maxEntries` binds)
   */
  cache?: false | { maxEntries?: number; maxBytes?: number };
  /**
   * Where asymmetric signatures are checked: `'auto'` verifies inline while the event loop has room and on libuv's
   * thread pool once requests queue up (so one process uses every core); `'never'` / `'always'` force one.
   * @default 'auto'
   */
  offload?: OffloadMode;
  /** Access-cookie names, in order; `false` reads only `Authorization`. @default ['__Host-jot_at'] */
  cookies?: false | readonly string[];
  /** Leeway for `exp`/`nbf`/`iat`. @default '5s' */
  clockTolerance?: Duration;
  /** `realm` of the `WWW-Authenticate` challenges. @default 'jot' */
  realm?: string;
  /** Tokens longer than this are refused before any decoding. @default 8192 */
  maxTokenLength?: number;
  fetch?: FetchLike;
  /** Epoch milliseconds. @default Date.now */
  clock?: Clock;
  /** @default console (warnings and errors only) */
  logger?: Logger;
  /**
   * DPoP (RFC 9449): bound tokens always need their proof; these settings choose the external URL, the replay
   * store, nonces and whether unbound tokens are refused. See docs/dpop.md.
   */
  dpop?: DPoPOptions;
  /** Encrypted access tokens: this service's private keys. See docs/encryption.md. */
  decryption?: DecryptionOptions;
}

/** A console logger that drops `info`. */
export const consoleLogger: Logger = {
  info() {},
  warn: (message, data) => console.warn(`[jot/verify] ${message}`, data ?? ''),
  error: (message, data) => console.error(`[jot/verify] ${message}`, data ?? ''),
};

/** Checks the issuer, audience and algorithms (`TypeError` on misuse). */
export function checkCoreOptions(options: VerifierOptions): {
  algorithms: readonly Algorithm[];
  audience: string[];
  profile: ClaimsProfile;
} {
  if (typeof options !== 'object' || options === null) throw new TypeError('verify: options are required');
  checkOptionNames(options);
  if (typeof options.issuer !== 'string' || !/^https?:\/\/[^/]/.test(options.issuer)) {
    throw new TypeError('verify: "issuer" must be an http(s) URL');
  }
  const audienceInput: unknown = options.audience;
  const audience: unknown[] =
    typeof audienceInput === 'string'
      ? [audienceInput]
      : Array.isArray(audienceInput)
        ? [...(audienceInput as unknown[])]
        : [];
  if (audience.length === 0 || !audience.every((a) => typeof a === 'string' && a.length > 0)) {
    throw new TypeError('verify: "audience" is required (a string or an array of strings)');
  }
  const algorithmsInput: unknown = options.algorithms ?? VERIFIER_DEFAULTS.algorithms;
  const algorithms: unknown[] = Array.isArray(algorithmsInput) ? [...(algorithmsInput as unknown[])] : [];
  if (algorithms.length === 0) throw new TypeError('verify: "algorithms" must be a non-empty array');
  for (const alg of algorithms) {
    const spec = typeof alg === 'string' ? ALGORITHMS.get(alg) : undefined;
    if (spec === undefined) throw new TypeError(`verify: unsupported algorithm ${String(alg)}`);
    if (spec.family === 'oct')
      throw new TypeError(`verify: ${spec.alg} needs a shared secret, which a JWKS never publishes`);
  }
  if (options.revocation === undefined) {
    throw new TypeError(
      'verify: "revocation" is required: "none", { strategy: "replicated" } or { strategy: "strict" }',
    );
  }
  const profile: unknown = options.profile ?? VERIFIER_DEFAULTS.profile;
  if (profile !== 'jot' && profile !== 'rfc9068')
    throw new TypeError('verify: "profile" must be "jot" or "rfc9068"');
  return { algorithms: algorithms as Algorithm[], audience: audience as string[], profile };
}

/** Memoized discovery that forgets failures, so a later call retries. */
export function lazyMetadata(
  issuer: string,
  fetchImpl: FetchLike,
  logger?: Logger,
  closed?: AbortSignal,
): () => Promise<IssuerMetadata> {
  let pending: Promise<IssuerMetadata> | undefined;
  return () => {
    pending ??= untilClosed(closed, (signal) =>
      discoverIssuer(issuer, { fetch: fetchImpl, logger, ...(signal === undefined ? {} : { signal }) }),
    ).catch((err: unknown) => {
      pending = undefined;
      throw err;
    });
    return pending;
  };
}

function endpoint(
  given: string | undefined,
  metadata: () => Promise<IssuerMetadata>,
  pick: (m: IssuerMetadata) => string | undefined,
  fallback: string,
): () => Promise<string> {
  if (given !== undefined) {
    const url = new URL(given).href;
    return () => Promise.resolve(url);
  }
  return async () => pick(await metadata()) ?? fallback;
}

function secretOf(options: { secret?: unknown }): string {
  if (typeof options.secret !== 'string' || options.secret.length === 0) {
    throw new TypeError(
      'verify: the revocation strategy needs "secret" (the server\'s JOT_REVOCATION_SECRET)',
    );
  }
  return options.secret;
}

/**
 * The stream's silence bound. Silence is staleness: a stream may say nothing for `heartbeatTimeout` before it is
 * replaced, so a bound above `maxStaleness` would let a dead stream pass for a live one. The default leaves a third
 * of `maxStaleness` to reconnect before requests start failing.
 */
function heartbeatTimeoutOf(given: Duration | undefined, maxStaleness: number): number {
  if (given === undefined) {
    const ceiling = toMillis(VERIFIER_DEFAULTS.replicated.heartbeatTimeoutMax, 'heartbeatTimeout');
    return Math.max(1, Math.min(ceiling, Math.floor((maxStaleness * 2) / 3)));
  }
  const heartbeatTimeout = toMillis(given, 'heartbeatTimeout');
  if (heartbeatTimeout <= 0 || heartbeatTimeout > maxStaleness) {
    throw new TypeError(
      `verify: "heartbeatTimeout" (${heartbeatTimeout} ms) must be positive and at most "maxStaleness" (${maxStaleness} ms)`,
    );
  }
  return heartbeatTimeout;
}

/** What every strategy builder needs besides its own options. */
interface StrategyContext {
  /** The issuer without trailing slashes: the base of the default endpoints. */
  base: string;
  metadata: () => Promise<IssuerMetadata>;
  deps: { fetch: FetchLike; clock: Clock; logger: Logger };
}

function replicatedStrategy(
  revocation: ReplicatedRevocationOptions,
  { base, metadata, deps }: StrategyContext,
): ReplicatedRevocation {
  const defaults = VERIFIER_DEFAULTS.replicated;
  const maxStaleness = toMillis(revocation.maxStaleness ?? defaults.maxStaleness, 'maxStaleness');
  return new ReplicatedRevocation({
    secret: secretOf(revocation),
    feedUrl: endpoint(
      revocation.feedUrl,
      metadata,
      (m) => m.revocation_feed_endpoint,
      `${base}${ENDPOINTS.revocationFeed}`,
    ),
    streamUrl: endpoint(
      revocation.streamUrl,
      metadata,
      (m) => m.revocation_stream_endpoint,
      `${base}${ENDPOINTS.revocationStream}`,
    ),
    maxStaleness,
    failOpen: (revocation.failOpen ?? defaults.failOpen) === true,
    heartbeatTimeout: heartbeatTimeoutOf(revocation.heartbeatTimeout, maxStaleness),
    minReconnectDelay: toMillis(
      revocation.reconnectDelay?.min ?? defaults.reconnectDelay.min,
      'reconnectDelay.min',
    ),
    maxReconnectDelay: toMillis(
      revocation.reconnectDelay?.max ?? defaults.reconnectDelay.max,
      'reconnectDelay.max',
    ),
    pruneInterval: Math.max(
      1000,
      toMillis(revocation.pruneInterval ?? defaults.pruneInterval, 'pruneInterval'),
    ),
    timeoutMs: toMillis(revocation.timeout ?? defaults.timeout, 'timeout'),
    ...deps,
  });
}

function introspectionStrategy(
  revocation: StrictRevocationOptions,
  { base, metadata, deps }: StrategyContext,
): IntrospectionRevocation {
  const defaults = VERIFIER_DEFAULTS.introspection;
  return new IntrospectionRevocation({
    secret: secretOf(revocation),
    introspectionUrl: endpoint(
      revocation.introspectionUrl,
      metadata,
      (m) => m.introspection_endpoint,
      `${base}${ENDPOINTS.feedIntrospection}`,
    ),
    failOpen: (revocation.failOpen ?? defaults.failOpen) === true,
    timeoutMs: toMillis(revocation.timeout ?? defaults.timeout, 'timeout'),
    fetch: deps.fetch,
    clock: deps.clock,
    logger: deps.logger,
  });
}

/**
 * The verifier's `deployment` option, checked: a deployment id, a non-empty list of them (copied and frozen: the
 * caller's array changing later changes nothing), or `'pin'` alone (a `TypeError` otherwise).
 */
function deploymentOf(deployment: unknown): string | readonly string[] {
  if (deployment === PIN_FIRST) return deployment;
  const option = '"revocation.deployment" (the server\'s deployment id)';
  if (Array.isArray(deployment)) {
    const ids: unknown[] = [...(deployment as unknown[])];
    if (ids.length === 0) {
      throw new TypeError(
        `verify: ${option}: an empty list trusts no mirror; give at least one id, or 'pin'`,
      );
    }
    ids.forEach((id, index) => {
      if (id === PIN_FIRST) {
        throw new TypeError(
          `verify: ${option}: 'pin' cannot be in a list (at index ${index}); give 'pin' alone, or the ids to trust`,
        );
      }
      const problem = deploymentIdProblem(id);
      if (problem !== undefined) throw new TypeError(`verify: ${option} at index ${index}: ${problem}`);
    });
    return Object.freeze(ids as string[]);
  }
  const problem = deploymentIdProblem(deployment);
  if (problem !== undefined) {
    throw new TypeError(`verify: ${option}: ${problem}, a non-empty list of such ids, or 'pin'`);
  }
  return deployment as string;
}

/** The Redis names under the verifier's `namespace` option; a `TypeError` naming the option when it cannot be one. */
function namesOf(namespace: unknown): RedisNames {
  const problem = redisNamespaceProblem(namespace);
  if (problem !== undefined) {
    throw new TypeError(`verify: "revocation.namespace" (the server's JOT_REDIS_NAMESPACE): ${problem}`);
  }
  return redisNames(namespace as string);
}

function strictStrategy(revocation: StrictRevocationOptions, context: StrategyContext): RevocationStrategy {
  const viaIntrospection = revocation.secret !== undefined || revocation.introspectionUrl !== undefined;
  if (revocation.redis !== undefined) {
    const defaults = VERIFIER_DEFAULTS.redis;
    return new RedisRevocation({
      redis: checkRedisOption(revocation.redis),
      names: namesOf(revocation.namespace ?? defaults.namespace),
      deployment: deploymentOf(revocation.deployment ?? defaults.deployment),
      failOpen: (revocation.failOpen ?? defaults.failOpen) === true,
      timeoutMs: toMillis(revocation.timeout ?? defaults.timeout, 'timeout'),
      clock: context.deps.clock,
      logger: context.deps.logger,
      ...(viaIntrospection ? { fallback: introspectionStrategy(revocation, context) } : {}),
    });
  }
  if ((revocation as { namespace?: unknown }).namespace !== undefined) {
    throw new TypeError('verify: "revocation.namespace" names the server\'s Redis keys; it needs "redis"');
  }
  if ((revocation as { deployment?: unknown }).deployment !== undefined) {
    throw new TypeError(
      'verify: "revocation.deployment" names whose Redis mirror to trust; it needs "redis"',
    );
  }
  if (!viaIntrospection) {
    throw new TypeError(
      'verify: strict revocation needs "redis" (the server\'s JOT_REDIS_URL or a client) or "secret" (introspection)',
    );
  }
  return introspectionStrategy(revocation, context);
}

/**
 * A copy of the revocation list (replicated, or the server's Redis) holds an entry until the revoked token's `exp`
 * plus the server's tolerance plus `FEED_RETENTION_SLACK_SECONDS`: a verifier accepting tokens for longer after
 * `exp` than that slack could meet a revoked token whose entry is already gone, so it is refused up front.
 */
function checkToleranceCovered(options: VerifierOptions): void {
  const toleranceMs = toMillis(options.clockTolerance ?? VERIFIER_DEFAULTS.clockTolerance, 'clockTolerance');
  if (toleranceMs > FEED_RETENTION_SLACK_SECONDS * 1000) {
    throw new TypeError(
      `verify: "clockTolerance" (${toleranceMs} ms) must be at most ${FEED_RETENTION_SLACK_SECONDS}s with a revocation ` +
        "copy: the issuer keeps a revoked token's entry only that long past its exp beyond its own tolerance",
    );
  }
}

/** Builds the revocation strategy the options ask for. */
export function buildStrategy(
  options: VerifierOptions,
  metadata: () => Promise<IssuerMetadata>,
  deps: { fetch: FetchLike; clock: Clock; logger: Logger },
): RevocationStrategy {
  const revocation = options.revocation;
  const context: StrategyContext = { base: options.issuer.replace(/\/+$/, ''), metadata, deps };
  if (revocation === 'none') return noRevocation();
  if (typeof revocation !== 'object' || revocation === null) throw new TypeError('verify: bad "revocation"');
  if ('check' in revocation && typeof revocation.check === 'function') return revocation;
  if ('strategy' in revocation && revocation.strategy === 'replicated') {
    checkToleranceCovered(options);
    return replicatedStrategy(revocation, context);
  }
  if ('strategy' in revocation && revocation.strategy === 'strict') {
    if (revocation.redis !== undefined) checkToleranceCovered(options);
    return strictStrategy(revocation, context);
  }
  throw new TypeError('verify: "revocation.strategy" must be "replicated" or "strict"');
}
