/**
 * DPoP at the resource server (RFC 9449 §7): a token bound to a key (`cnf.jkt`) is accepted only as
 * `Authorization: DPoP <token>` with a proof from that key for this method and URL, carrying `ath` of the token —
 * checked by the same `@jot/jose` checker the Jot server uses. Replayed proofs are refused within the window
 * (this process's memory, or Redis `SET NX` across instances); server nonces are optional. Behind a proxy the URL
 * is the configured external one.
 */
import { HEADERS, redisNames, type TokenLocation } from '@jot/contract';
import {
  createDPoPChecker,
  createDPoPNonces,
  isJoseError,
  memoryReplayStore,
  redisReplayStore,
  type Algorithm,
  type DPoPChecker,
  type DPoPReplayStore,
  type RedisSetNX,
} from '@jot/jose';

import { VERIFIER_DEFAULTS } from './defaults.js';
import { toMillis, type Duration } from './duration.js';
import { VerifyError } from './errors.js';
import { readHeader, type AccessTokenClaims, type Clock, type Logger, type RequestLike } from './types.js';

/** DPoP settings of a verifier. */
export interface DPoPOptions {
  /**
   * The external origin (and path prefix) clients address this service at, e.g. `https://api.example.com`; the
   * request path is appended. @default the request's own URL (a Web `Request`'s, else `http(s)://<Host>` + path)
   */
  externalUrl?: string;
  /** Refuse requests whose token is not DPoP-bound (every client must use DPoP). @default false */
  required?: boolean;
  /**
   * Where proof `jti`s are remembered: this process's memory (`'memory'`, or `{ memory: { maxEntries } }` to size
   * it), or Redis shared by every instance (`{ redis, prefix }`). Memory is per instance: with several instances a
   * captured proof is accepted once by each, so use Redis there (a verifier warns once when it runs with memory in
   * production, unless `singleInstance: true` says this service runs as one process). The memory store holds at
   * most `maxEntries` live proofs (default 100,000: about 1,400 proofs a second at the default `maxAge`); while it is
   * full new proofs are refused with 503 `ERR_VERIFY_UNAVAILABLE` (`reason` `dpop`) — a live proof is never
   * forgotten. With Redis, `prefix` defaults to `<namespace>:dpop:` — `namespace` being `revocation.namespace` (the
   * server's `JOT_REDIS_NAMESPACE`) when given, else `jot` — the prefix the Jot server's own replay keys use. A proof
   * is single-use within one prefix: while instances with two prefixes run (a rolling restart that sets
   * `revocation.namespace`), each accepts a captured proof once, so set `prefix` to the old value for such a rollout.
   * @default 'memory'
   */
  replay?: 'memory' | { memory: MemoryReplayOptions } | { redis: RedisSetNX; prefix?: string };
  /** Demand nonces of this service (RFC 9449 §9): a secret of 32+ bytes shared by its instances. @default none */
  nonce?: { secret: string | Uint8Array; window?: Duration };
  /** Seconds of proof age accepted. @default '60s' */
  maxAge?: Duration;
  /** Proof algorithms accepted. @default ES256, ES384, ES512, EdDSA, PS256, RS256 */
  algorithms?: readonly Algorithm[];
}

/** `DPoPOptions.replay: { memory }`: proofs remembered in this process. */
export interface MemoryReplayOptions {
  /** Live proofs remembered at once; while that many are, new proofs are refused with 503. @default 100000 */
  maxEntries?: number;
  /**
   * `true` acknowledges that this service runs as exactly one process, where memory is a full replay check: the
   * verifier then gives no multi-instance warning in production. Say it only when true — with a second instance a
   * captured proof is accepted once by each. @default false
   */
  singleInstance?: boolean;
}

/** The per-request DPoP step. */
export interface RequestDPoP {
  readonly algorithms: readonly Algorithm[];
  /**
   * Checks the request's proof for a verified token; throws (or rejects with) a `VerifyError`. Answers
   * synchronously when there is no proof to check (an unbound token sent as `Bearer`), so that case waits for nothing.
   */
  check(
    request: RequestLike,
    token: string,
    scheme: TokenLocation,
    claims: AccessTokenClaims,
  ): Promise<void> | undefined;
  /** The current nonce, when nonces are on. */
  nonce(): string | undefined;
}

/** The absolute URL of a request: a Web `Request`'s own, else the external URL (or Host) + the path. */
export function requestUrl(request: RequestLike, externalUrl: string | undefined): string {
  const raw = request.originalUrl ?? request.url ?? '/';
  if (/^https?:\/\//i.test(raw)) {
    if (externalUrl === undefined) return raw;
    const parsed = new URL(raw);
    return externalUrl + parsed.pathname + parsed.search;
  }
  if (externalUrl !== undefined) return externalUrl + raw;
  const host = readHeader(request.headers, 'host') ?? 'localhost';
  return `${requestProtocol(request)}://${host}${raw}`;
}

/**
 * `https` or `http`: the framework's `protocol` (Express and Fastify, honouring their trust-proxy settings), else
 * whether the connection is TLS (a bare `node:http` request on an `https` server has no `protocol`).
 */
function requestProtocol(request: RequestLike): 'https' | 'http' {
  if (request.protocol !== undefined) return request.protocol === 'https' ? 'https' : 'http';
  const socket = request.socket as { readonly encrypted?: unknown } | undefined;
  return socket?.encrypted === true ? 'https' : 'http';
}

/** The thumbprint a DPoP-bound token names (`cnf.jkt`), or undefined for an unbound token. */
function jkt(claims: AccessTokenClaims): string | undefined {
  const cnf = claims.cnf;
  if (typeof cnf !== 'object' || cnf === null) return undefined;
  const value = (cnf as { jkt?: unknown }).jkt;
  return typeof value === 'string' ? value : undefined;
}

/**
 * For `verify(token)`, which has no request and so no proof to check: a DPoP-bound token, and with `required` any
 * token, is refused (`ERR_DPOP_REQUIRED`) — checking only the signature would accept a stolen bound token. Such
 * tokens go through `authenticate(request)`.
 */
export function refuseWithoutRequest(claims: AccessTokenClaims, required: boolean): void {
  const bound = jkt(claims) !== undefined;
  if (!bound && !required) return;
  throw new VerifyError(
    'ERR_DPOP_REQUIRED',
    bound
      ? 'this access token is DPoP-bound (cnf.jkt): verify it with authenticate(request), which checks its proof'
      : 'this service accepts DPoP-bound tokens only: verify them with authenticate(request), which checks the proof',
    { reason: bound ? 'no_request' : 'policy' },
  );
}

/**
 * The place `DPoPOptions.replay` names, checked: a wrong one is a `TypeError` when the verifier is built. A Redis
 * place without a `prefix` uses `namespace`'s.
 */
function replayPlace(
  option: unknown,
  namespace: string | undefined,
): { memory: { maxEntries: unknown; singleInstance: boolean } } | { redis: RedisSetNX; prefix: string } {
  const usage =
    "dpop.replay must be 'memory', { memory: { maxEntries, singleInstance } } or { redis, prefix }";
  if (option === 'memory') return { memory: { ...VERIFIER_DEFAULTS.dpop.memoryReplay } };
  if (typeof option !== 'object' || option === null) throw new TypeError(usage);
  const { memory, redis, prefix } = option as { memory?: unknown; redis?: unknown; prefix?: unknown };
  if ('memory' in option && 'redis' in option) {
    throw new TypeError('dpop.replay: give either memory or redis, not both');
  }
  if ('memory' in option) {
    if (prefix !== undefined)
      throw new TypeError('dpop.replay.prefix is a Redis key prefix: it goes with redis');
    if (typeof memory !== 'object' || memory === null) {
      throw new TypeError('dpop.replay.memory must be an object: { maxEntries, singleInstance }');
    }
    const given = memory as { maxEntries?: unknown; singleInstance?: unknown };
    // Checked by `memoryReplayStore` itself (see `memoryStore`).
    const maxEntries = given.maxEntries ?? VERIFIER_DEFAULTS.dpop.memoryReplay.maxEntries;
    const singleInstance =
      given.singleInstance === undefined
        ? VERIFIER_DEFAULTS.dpop.memoryReplay.singleInstance
        : given.singleInstance;
    if (typeof singleInstance !== 'boolean') {
      throw new TypeError(
        'dpop.replay.memory.singleInstance must be true or false (true: this service runs as one process, so ' +
          'the multi-instance warning is not given)',
      );
    }
    return { memory: { maxEntries, singleInstance } };
  }
  if (!('redis' in option)) throw new TypeError(usage);
  if (typeof (redis as Partial<RedisSetNX> | null | undefined)?.set !== 'function') {
    throw new TypeError(
      'dpop.replay.redis must be a Redis client: an ioredis client, or anything with set(key, value, "PX", ms, "NX")',
    );
  }
  if (prefix !== undefined && typeof prefix !== 'string')
    throw new TypeError('dpop.replay.prefix must be a string');
  return { redis: redis as RedisSetNX, prefix: prefix ?? redisNames(namespace).dpopReplay };
}

/** Whether this runs as production (`NODE_ENV=production`), where a process is likely one of several instances. */
function inProduction(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.NODE_ENV === 'production';
}

/**
 * Said once per verifier when proofs are remembered in memory in production, unless `singleInstance` acknowledges
 * it.
 */
const MEMORY_REPLAY_WARNING =
  "DPoP proofs are remembered in this process's memory (dpop.replay 'memory'): with more than one instance of " +
  'this service, a captured proof is accepted once per instance. Set dpop.replay: { redis } so that every instance ' +
  'shares the replay check (docs/verify.md, "DPoP replay across instances"); a service that runs as a single ' +
  'process can say so with dpop.replay: { memory: { singleInstance: true } }, which silences this warning';

/** What `createRequestDPoP` needs besides its options to say what it does. */
export interface RequestDPoPContext {
  /**
   * Told the multi-instance warning (once) when proofs are remembered in memory with NODE_ENV=production and
   * `singleInstance` is not set.
   */
  logger?: Pick<Logger, 'warn'>;
  /**
   * Whether DPoP was configured (`dpop` given): then the warning comes when the step is built; otherwise — DPoP on
   * for bound tokens only by default — at the first proof checked, so a service that never sees one is not told.
   * @default true
   */
  configured?: boolean;
  /**
   * The Redis namespace of the verifier (`revocation.namespace`, already checked): the default prefix of a Redis
   * replay store is `<namespace>:dpop:`. @default 'jot'
   */
  namespace?: string;
}

/** Builds the DPoP step; misuse is a `TypeError` here. */
export function createRequestDPoP(
  options: DPoPOptions,
  clock: Clock,
  clockToleranceMs: number,
  context: RequestDPoPContext = {},
): RequestDPoP {
  const externalUrl = options.externalUrl?.replace(/\/+$/, '');
  if (externalUrl !== undefined && !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(externalUrl)) {
    throw new TypeError('dpop.externalUrl must be an absolute http(s) URL without query');
  }
  const place = replayPlace(options.replay ?? VERIFIER_DEFAULTS.dpop.replay, context.namespace);
  let replay: DPoPReplayStore;
  if ('memory' in place) {
    replay = memoryStore(place.memory.maxEntries, clock);
    const { logger } = context;
    if (logger !== undefined && !place.memory.singleInstance && inProduction()) {
      if (context.configured ?? true) logger.warn(MEMORY_REPLAY_WARNING);
      else replay = warningOnFirstClaim(replay, () => logger.warn(MEMORY_REPLAY_WARNING));
    }
  } else {
    replay = redisReplayStore(place.redis, place.prefix);
  }
  let nonces;
  if (options.nonce !== undefined) {
    const secret =
      typeof options.nonce.secret === 'string'
        ? new TextEncoder().encode(options.nonce.secret)
        : options.nonce.secret;
    nonces = createDPoPNonces(secret, {
      clock,
      windowSeconds: Math.floor(
        toMillis(options.nonce.window ?? VERIFIER_DEFAULTS.dpop.nonce.window, 'dpop.nonce.window') / 1000,
      ),
    });
  }
  const checker: DPoPChecker = createDPoPChecker({
    algorithms: options.algorithms,
    maxAge: Math.floor(toMillis(options.maxAge ?? VERIFIER_DEFAULTS.dpop.maxAge, 'dpop.maxAge') / 1000),
    clockTolerance: Math.floor(clockToleranceMs / 1000),
    replay,
    nonces,
    clock,
  });
  return requestDPoP(checker, { externalUrl, required: options.required ?? VERIFIER_DEFAULTS.dpop.required });
}

/**
 * `memoryReplayStore`, which refuses a bad `maxEntries` (a `TypeError`, its only one): the rule lives there, and its
 * refusal is passed on naming the option a verifier's user set, `dpop.replay.memory.maxEntries`.
 */
function memoryStore(maxEntries: unknown, clock: Clock): DPoPReplayStore {
  try {
    return memoryReplayStore({ clock, maxEntries: maxEntries as number });
  } catch (err) {
    if (!(err instanceof TypeError)) throw err;
    throw new TypeError(`dpop.replay.memory.maxEntries is refused by ${err.message}`, {
      cause: err,
    });
  }
}

/** `store`, saying `warn()` before its first claim. */
function warningOnFirstClaim(store: DPoPReplayStore, warn: () => void): DPoPReplayStore {
  let warned = false;
  return {
    claim(key, ttlMs) {
      if (!warned) {
        warned = true;
        warn();
      }
      return store.claim(key, ttlMs);
    },
  };
}

/** How `requestDPoP` finds the request's URL and what it demands. */
export interface RequestDPoPSettings {
  /** The external origin (and path prefix) of the service; see `DPoPOptions.externalUrl`. */
  externalUrl?: string;
  /** Refuse tokens that are not DPoP-bound. @default false */
  required?: boolean;
  /** The absolute URL of a request (`htu`), when the framework knows it better than `requestUrl`. */
  url?: (request: RequestLike) => string;
}

/**
 * The per-request DPoP step over an existing checker (its replay store, nonces and algorithms): what the Jot server
 * plugs into `createRequestAuth` with the checker its token endpoints use.
 *
 * @example
 * const dpop = requestDPoP(createDPoPChecker({ replay: memoryReplayStore() }), { externalUrl: 'https://api.example.com' });
 */
export function requestDPoP(checker: DPoPChecker, settings: RequestDPoPSettings = {}): RequestDPoP {
  const { externalUrl, required } = settings;
  const urlOf = settings.url ?? ((request: RequestLike) => requestUrl(request, externalUrl));
  const algs = checker.algorithms.join(' ');
  const fail = (
    code: ConstructorParameters<typeof VerifyError>[0],
    message: string,
    reason?: string,
  ): VerifyError => new VerifyError(code, message, { reason, dpop: { algs, nonce: checker.nonce() } });

  /** A bound token: it must come as `DPoP` with a valid proof from its key. */
  async function checkProof(
    request: RequestLike,
    token: string,
    scheme: TokenLocation,
    bound: string,
  ): Promise<void> {
    if (scheme !== 'dpop') {
      throw fail(
        'ERR_DPOP_REQUIRED',
        'this access token is DPoP-bound: send it as "DPoP <token>" with a proof',
        'scheme',
      );
    }
    let url: string;
    try {
      url = urlOf(request);
    } catch {
      // A `url` hook that cannot build one; a Host header that makes no URL is refused by the proof check below.
      throw fail('ERR_DPOP_PROOF_INVALID', NO_URL, 'htu');
    }
    try {
      await checker.check({
        method: (request.method ?? 'GET').toUpperCase(),
        url,
        proof: proofValues(request.headers),
        accessToken: token,
        boundJkt: bound,
      });
    } catch (err) {
      if (isJoseError(err)) throw fail(err.code, err.message, err.reason);
      // Not a judgement on the proof (the replay store, Redis, is down): `createRequestAuth` answers it with a 503.
      throw err;
    }
  }

  return {
    algorithms: checker.algorithms,
    nonce: () => checker.nonce(),
    check(request, token, scheme, claims) {
      const bound = jkt(claims);
      if (bound !== undefined) return checkProof(request, token, scheme, bound);
      if (scheme === 'dpop') {
        throw fail(
          'ERR_DPOP_KEY_MISMATCH',
          'this access token is not DPoP-bound; send it as Bearer',
          'unbound',
        );
      }
      if (required) throw fail('ERR_DPOP_REQUIRED', 'this service accepts DPoP-bound tokens only', 'policy');
      return undefined;
    },
  };
}

/** The refusal of a request whose absolute URL cannot be built. */
const NO_URL = 'the request URL is not a valid http(s) URL, so no DPoP proof can match it';

/** The `DPoP` header values of a request (Node headers or Web `Headers`). */
function proofValues(headers: RequestLike['headers']): string[] {
  if (typeof (headers as { get?: unknown }).get === 'function') {
    const value = (headers as { get(name: string): string | null }).get(HEADERS.dpop);
    // A Web Headers object joins repeated headers with ", " — a proof never contains one.
    return value === null ? [] : value.split(', ');
  }
  const value = (headers as Readonly<Record<string, string | readonly string[] | undefined>>).dpop;
  if (typeof value === 'string') return value.split(', ');
  return value === undefined ? [] : [...value];
}
