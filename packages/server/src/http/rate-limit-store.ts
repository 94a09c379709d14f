/**
 * The rate-limit store every limit counts in. With Redis (`JOT_REDIS_URL`) it is shared through Redis while Redis
 * answers and per instance in memory while it does not; without Redis it is per instance in memory always. Limits
 * are never switched off by an outage, and an outage never slows a request down: a command is bounded by the Redis
 * client's command timeout, and after a failure this instance counts locally for `FALLBACK_MS` before it tries
 * Redis again (a Redis that is not connected at all is not even asked).
 *
 * Fixed windows in both: the first hit of a key starts a window of `timeWindow` ms; `current` counts the hits in it.
 * Both modes have the same key spaces: one per route for a route's limit, one shared by every `createRateLimit`
 * limit (whose keys carry their own name, so the mail routes share one budget per recipient, `mail:<hash>`).
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

import { BoundedWindows } from '../services/bounded-windows.js';

/** How long counting stays local after Redis failed. */
const FALLBACK_MS = 1_000;
/** Windows one instance keeps in memory, one per key, at most (see LocalWindows). */
export const LOCAL_MAX_KEYS = 100_000;
/** Shared windows per window length for the keys that find the memory full (see LocalWindows). */
export const LOCAL_SHARED_WINDOWS = 1_024;

const INCR_SCRIPT = `
local current = redis.call('INCR', KEYS[1])
if current == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {current, ttl}
`;

type Result = { current: number; ttl: number };
type Callback = (error: Error | null, result?: Result) => void;

/** What the store reports (a pino / Fastify logger fits). */
export interface RateLimitLogger {
  warn(details: object, message: string): void;
  info(message: string): void;
}

/** Bounds of the per-instance memory (tests make them small); `clock` is the windows' clock. */
export interface LocalWindowsOptions {
  maxKeys?: number;
  sharedWindows?: number;
  clock?: () => number;
}

/**
 * The per-instance windows of the rate limits: bounded windows (services/bounded-windows.ts) that never drop a
 * running window — a flood of new keys (many addresses, many IPv6 /64s, many made-up mail addresses) must not
 * reopen, say, one address's 15-minute mail budget, nor hand a half-spent one a fresh start — at most `maxKeys`
 * (LOCAL_MAX_KEYS) windows of their own plus `sharedWindows` (LOCAL_SHARED_WINDOWS) shared ones per window length
 * (the configured limits). `onFull` is called, at most once a minute, while new keys find the memory full.
 */
export class LocalWindows extends BoundedWindows {
  constructor(onFull: () => void, options: LocalWindowsOptions = {}) {
    super({
      maxKeys: options.maxKeys ?? LOCAL_MAX_KEYS,
      sharedWindows: options.sharedWindows ?? LOCAL_SHARED_WINDOWS,
      onFull,
      clock: options.clock,
    });
  }
}

/** The route a limit is attached to, as @fastify/rate-limit passes it to `child`. */
interface RouteInfo {
  method?: string | string[];
  url?: string;
}

/** `POST/api/login` for a route's limit; '' for a limit of its own (`createRateLimit`). */
function routeKey({ routeInfo }: { routeInfo?: RouteInfo }): string {
  const method = Array.isArray(routeInfo?.method) ? routeInfo.method.join(',') : (routeInfo?.method ?? '');
  return `${method}${routeInfo?.url ?? ''}`;
}

type Incr = (key: string, callback: Callback, timeWindow: number) => void;

/** The store class @fastify/rate-limit constructs, over `incr`, keys prefixed with `prefix`. */
function storeClass(prefix: string, incr: Incr): FastifyRateLimitStoreCtor {
  function storeFor(keyPrefix: string): FastifyRateLimitStore {
    return {
      incr: (key, callback, timeWindow) => incr(keyPrefix + key, callback, timeWindow),
      // One key space per route, as @fastify/rate-limit's own Redis store: its route is `routeInfo` of the merged
      // options (empty for a `createRateLimit` limit, whose keys carry their own name).
      child: (options) => storeFor(`${prefix}${routeKey(options as { routeInfo?: RouteInfo })}-`),
    };
  }

  return class RateLimitStore {
    constructor() {
      return storeFor(prefix);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}

/** Per-instance windows that warn `logger` (at most once a minute) while the memory is full. */
function localWindows(logger: RateLimitLogger, options: LocalWindowsOptions): LocalWindows {
  return new LocalWindows(
    () =>
      logger.warn(
        { maxKeys: options.maxKeys ?? LOCAL_MAX_KEYS },
        'rate-limit memory is full of running windows (many client addresses or mail addresses at once); ' +
          'new keys share budgets until windows end, so some clients may be refused early',
      ),
    options,
  );
}

/** A `store` option for @fastify/rate-limit counting in this instance's memory only (no Redis configured). */
export function localRateLimitStore(
  prefix: string,
  logger: RateLimitLogger,
  options: LocalWindowsOptions = {},
): FastifyRateLimitStoreCtor {
  const local = localWindows(logger, options);
  return storeClass(prefix, (key, callback, timeWindow) => callback(null, local.incr(key, timeWindow)));
}

/** A `store` option for @fastify/rate-limit over `redis`, keys prefixed with `prefix`, local while Redis fails. */
export function fallbackRateLimitStore(
  redis: Redis,
  prefix: string,
  logger: RateLimitLogger,
  options: LocalWindowsOptions = {},
): FastifyRateLimitStoreCtor {
  const local = localWindows(logger, options);
  let failedAt = -Infinity;

  function viaRedis(key: string, timeWindow: number): Promise<Result> {
    return redis.eval(INCR_SCRIPT, 1, key, String(timeWindow)).then((reply) => {
      if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
        throw new Error('unexpected rate-limit reply from Redis');
      }
      return { current: reply[0], ttl: reply[1] };
    });
  }

  return storeClass(prefix, (key, callback, timeWindow) => {
    const now = Date.now();
    if (redis.status !== 'ready' || now - failedAt < FALLBACK_MS) {
      callback(null, local.incr(key, timeWindow));
      return;
    }
    viaRedis(key, timeWindow).then(
      (result) => {
        if (failedAt !== -Infinity) logger.info('rate limits are shared through Redis again');
        failedAt = -Infinity;
        callback(null, result);
      },
      (err: unknown) => {
        if (failedAt === -Infinity)
          logger.warn({ err }, 'Redis failed; rate limits are counted per instance until it answers');
        failedAt = Date.now();
        callback(null, local.incr(key, timeWindow));
      },
    );
  });
}
