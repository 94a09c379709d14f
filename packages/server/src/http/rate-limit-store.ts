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
import { createHash } from 'node:crypto';

import type { FastifyRateLimitStore, FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { Redis } from 'ioredis';

/** How long counting stays local after Redis failed. */
const FALLBACK_MS = 1_000;
/** Windows one instance keeps in memory, one per key, at most (see LocalWindows). */
export const LOCAL_MAX_KEYS = 100_000;
/** Shared windows per window length for the keys that find the memory full (see LocalWindows). */
export const LOCAL_SHARED_WINDOWS = 1_024;
/** Least time between two warnings that the memory is full. */
const FULL_WARNING_MS = 60_000;

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

interface Window {
  count: number;
  endsAt: number;
}

/**
 * Per-instance windows in bounded memory. A window is dropped only once it has ended: never early, spent or not —
 * a flood of new keys (many addresses, many IPv6 /64s, many made-up mail addresses) must not reopen, say, one
 * address's 15-minute mail budget, nor hand a half-spent one a fresh start.
 *
 * The bound: at most `maxKeys` windows of their own (one per key) plus `sharedWindows` shared ones per window length
 * (a handful of lengths: the configured limits). A key that finds no window of its own while the memory is full of
 * running windows is counted in a shared window instead, chosen by a hash of the key: it shares that budget with the
 * other keys of the hash — it may be refused early (never late), and the operator is warned. A key whose shared
 * window still runs keeps counting there even once room is free again, so moving to a window of its own never
 * restarts a budget it spent in the shared one.
 *
 * Windows of one length end in the order they began, so each length has its own map (in insertion order) and
 * making room reads only the ended windows at the front of each: no request ever scans the memory.
 */
export class LocalWindows {
  /** Windows of their own, per window length, oldest first. */
  readonly #own = new Map<number, Map<string, Window>>();
  /** Shared windows, per window length, by slot. */
  readonly #shared = new Map<number, Map<number, Window>>();
  #size = 0;
  readonly #maxKeys: number;
  readonly #sharedWindows: number;
  readonly #clock: () => number;
  readonly #onFull: () => void;

  constructor(onFull: () => void, options: LocalWindowsOptions = {}) {
    this.#onFull = onFull;
    this.#maxKeys = options.maxKeys ?? LOCAL_MAX_KEYS;
    this.#sharedWindows = options.sharedWindows ?? LOCAL_SHARED_WINDOWS;
    this.#clock = options.clock ?? Date.now;
  }

  /** Windows of their own held now (ended ones not yet dropped included). */
  get size(): number {
    return this.#size;
  }

  /** Shared windows held now, over all window lengths. */
  get sharedSize(): number {
    let size = 0;
    for (const slots of this.#shared.values()) size += slots.size;
    return size;
  }

  incr(key: string, timeWindow: number): Result {
    const now = this.#clock();
    let own = this.#own.get(timeWindow);
    if (own === undefined) {
      own = new Map();
      this.#own.set(timeWindow, own);
    }
    let window = own.get(key);
    if (window !== undefined && window.endsAt <= now) {
      own.delete(key);
      this.#size -= 1;
      window = undefined;
    }
    if (window === undefined) {
      const shared = this.#sharedFor(key, timeWindow, now);
      if (shared !== undefined && shared.endsAt > now) return this.#count(shared, now);
      if (this.#size >= this.#maxKeys) this.#dropEnded(now);
      if (this.#size >= this.#maxKeys) {
        this.#onFull();
        return this.#count(this.#startShared(key, timeWindow, now), now);
      }
      window = { count: 0, endsAt: now + timeWindow };
      own.set(key, window); // last: the newest window of its length
      this.#size += 1;
    }
    return this.#count(window, now);
  }

  #count(window: Window, now: number): Result {
    window.count += 1;
    return { current: window.count, ttl: window.endsAt - now };
  }

  #slot(key: string): number {
    return createHash('sha256').update(key).digest().readUInt32BE(0) % this.#sharedWindows;
  }

  #sharedFor(key: string, timeWindow: number, now: number): Window | undefined {
    const slots = this.#shared.get(timeWindow);
    if (slots === undefined || slots.size === 0) return undefined;
    const slot = this.#slot(key);
    const window = slots.get(slot);
    if (window !== undefined && window.endsAt <= now) {
      slots.delete(slot);
      return undefined;
    }
    return window;
  }

  #startShared(key: string, timeWindow: number, now: number): Window {
    let slots = this.#shared.get(timeWindow);
    if (slots === undefined) {
      slots = new Map();
      this.#shared.set(timeWindow, slots);
    }
    const window = { count: 0, endsAt: now + timeWindow };
    slots.set(this.#slot(key), window);
    return window;
  }

  /** Drops the ended windows of their own (each length's map is oldest first, so only its ended front is read). */
  #dropEnded(now: number): void {
    for (const windows of this.#own.values()) {
      for (const [key, window] of windows) {
        if (window.endsAt > now) break;
        windows.delete(key);
        this.#size -= 1;
      }
    }
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
  const clock = options.clock ?? Date.now;
  let warnedAt = -Infinity;
  return new LocalWindows(() => {
    const now = clock();
    if (now - warnedAt < FULL_WARNING_MS) return;
    warnedAt = now;
    logger.warn(
      { maxKeys: options.maxKeys ?? LOCAL_MAX_KEYS },
      'rate-limit memory is full of running windows (many client addresses or mail addresses at once); ' +
        'new keys share budgets until windows end, so some clients may be refused early',
    );
  }, options);
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
