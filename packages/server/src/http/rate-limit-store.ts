/**
 * The rate-limit store: shared through Redis when it answers, per instance in memory when it does not. Limits are
 * never switched off by an outage, and an outage never slows a request down: a command is bounded by the Redis
 * client's command timeout, and after a failure this instance counts locally for `FALLBACK_MS` before it tries
 * Redis again (a Redis that is not connected at all is not even asked).
 *
 * Fixed windows in both: the first hit of a key starts a window of `timeWindow` ms; `current` counts the hits in it.
 */
import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** How long counting stays local after Redis failed. */
const FALLBACK_MS = 1_000;
/** Keys one instance keeps in memory at most (ended windows dropped first, then unspent ones; see LocalWindows). */
const LOCAL_MAX_KEYS = 10_000;

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

/**
 * Per-instance windows, bounded in size. To make room it drops, in this order: windows that have ended, then the
 * oldest window still under its limit — never a spent budget whose window still runs, or a flood of new keys (many
 * addresses) would reopen, say, one address's 15-minute mail budget. Only when every window held is spent does the
 * oldest go.
 */
class LocalWindows {
  readonly #windows = new Map<string, { count: number; endsAt: number; max: number }>();

  incr(key: string, timeWindow: number, max: number): Result {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (window === undefined || window.endsAt <= now) {
      this.#windows.delete(key);
      window = { count: 0, endsAt: now + timeWindow, max: Number.isFinite(max) ? max : Infinity };
      if (this.#windows.size >= LOCAL_MAX_KEYS) this.#makeRoom(now);
      this.#windows.set(key, window);
    }
    window.count += 1;
    return { current: window.count, ttl: window.endsAt - now };
  }

  #makeRoom(now: number): void {
    let unspent: string | undefined;
    for (const [key, window] of this.#windows) {
      if (window.endsAt <= now) this.#windows.delete(key);
      else if (unspent === undefined && window.count < window.max) unspent = key;
    }
    if (this.#windows.size < LOCAL_MAX_KEYS) return;
    this.#windows.delete(unspent ?? (this.#windows.keys().next().value as string));
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

/** A `store` option for @fastify/rate-limit over `redis`, keys prefixed with `prefix`. */
export function fallbackRateLimitStore(
  redis: Redis,
  prefix: string,
  logger: RateLimitLogger,
): FastifyRateLimitStoreCtor {
  const local = new LocalWindows();
  let failedAt = -Infinity;

  function viaRedis(key: string, timeWindow: number): Promise<Result> {
    return redis.eval(INCR_SCRIPT, 1, key, String(timeWindow)).then((reply) => {
      if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
        throw new Error('unexpected rate-limit reply from Redis');
      }
      return { current: reply[0], ttl: reply[1] };
    });
  }

  function incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    const now = Date.now();
    if (redis.status !== 'ready' || now - failedAt < FALLBACK_MS) {
      callback(null, local.incr(key, timeWindow, max));
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
        callback(null, local.incr(key, timeWindow, max));
      },
    );
  }

  function storeFor(keyPrefix: string): FastifyRateLimitStore {
    return {
      incr: (key, callback, timeWindow, max) => incr(keyPrefix + key, callback, timeWindow, max),
      // One key space per route, as @fastify/rate-limit's own Redis store: its route is `routeInfo` of the merged
      // options (empty for a `createRateLimit` limit, whose keys carry their own name).
      child: (options) => storeFor(`${prefix}${routeKey(options as { routeInfo?: RouteInfo })}-`),
    };
  }

  return class FallbackStore {
    constructor() {
      return storeFor(prefix);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
