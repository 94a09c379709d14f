/**
 * Limiters: a bound on how many async tasks run at once (password hashing uses it to keep a core for the event
 * loop), and a failure budget shared by every instance (failed client authentications at the OAuth endpoints).
 */
import type { Redis } from 'ioredis';

/** Runs at most `limit` tasks at once, the others in arrival order as slots free up. */
export function createLimiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  if (!Number.isSafeInteger(limit) || limit < 1) throw new TypeError('limit must be a positive integer');
  let active = 0;
  const waiting: (() => void)[] = [];
  return async function run<T>(task: () => Promise<T>): Promise<T> {
    if (active < limit) active += 1;
    // A finishing task hands its slot straight to the next in line (`active` unchanged).
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next === undefined) active -= 1;
      else next();
    }
  };
}

/**
 * A budget of failures per key, in fixed windows: the first failure of a key starts a window of `windowMs`; once it
 * holds `max` failures, `blockedFor` answers how long until the window ends. Checking does not count — only `fail`
 * does — so a caller can refuse before it checks a credential, and success costs the budget nothing.
 */
export interface FailureLimiter {
  /** Milliseconds until none of `keys` is over budget; 0 when none is. */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Counts one failure against each of `keys`; resolves to the largest count in the current windows. */
  fail(keys: readonly string[]): Promise<number>;
}

/** Options of {@link createFailureLimiter}. */
export interface FailureLimiterOptions {
  /** Shared counts across instances; while it fails (or without it) each instance counts on its own. */
  redis: Redis | undefined;
  /** Prefix of the Redis keys. */
  prefix: string;
  max: number;
  windowMs: number;
  /** The clock of the per-instance windows (Redis keeps its own time). */
  clock?: () => number;
}

const PEEK_SCRIPT = `
local wait = 0
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[1]) then
    local ttl = redis.call('PTTL', key)
    if ttl > wait then wait = ttl end
  end
end
return wait
`;

const FAIL_SCRIPT = `
local most = 0
for _, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[1]) end
  if count > most then most = count end
end
return most
`;

/** Keys one instance keeps in memory at most (ended windows dropped first, then unspent ones; see `makeRoom`). */
const LOCAL_MAX_KEYS = 10_000;
/** How long counting stays local after Redis failed. */
const FALLBACK_MS = 1_000;

/**
 * Frees one place: ended windows go first (one window length, so they are the oldest), then the oldest window still
 * under `max` — a spent budget whose window runs is dropped only when every window held is spent, or a flood of new
 * keys would reopen it.
 */
function makeRoom(windows: Map<string, { count: number; endsAt: number }>, max: number, now: number): void {
  let unspent: string | undefined;
  for (const [key, window] of windows) {
    if (window.endsAt <= now) windows.delete(key);
    else if (window.count < max) {
      unspent = key;
      break;
    }
  }
  if (windows.size < LOCAL_MAX_KEYS) return;
  windows.delete(unspent ?? (windows.keys().next().value as string));
}

/** Per-instance windows: what counts while Redis is absent or failing. */
function localWindows(max: number, windowMs: number, clock: () => number): FailureLimiter {
  const windows = new Map<string, { count: number; endsAt: number }>();
  const live = (key: string, now: number): { count: number; endsAt: number } | undefined => {
    const window = windows.get(key);
    if (window !== undefined && window.endsAt <= now) windows.delete(key);
    return window !== undefined && window.endsAt > now ? window : undefined;
  };
  return {
    async blockedFor(keys) {
      const now = clock();
      let wait = 0;
      for (const key of keys) {
        const window = live(key, now);
        if (window !== undefined && window.count >= max) wait = Math.max(wait, window.endsAt - now);
      }
      return wait;
    },
    async fail(keys) {
      const now = clock();
      let most = 0;
      for (const key of keys) {
        let window = live(key, now);
        if (window === undefined) {
          if (windows.size >= LOCAL_MAX_KEYS) makeRoom(windows, max, now);
          window = { count: 0, endsAt: now + windowMs };
          windows.set(key, window);
        }
        window.count += 1;
        most = Math.max(most, window.count);
      }
      return most;
    },
  };
}

/** Builds a failure budget over Redis (falling back to this instance's memory) or memory alone. */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const { redis, prefix, max, windowMs, clock = Date.now } = options;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('max must be a positive integer');
  const local = localWindows(max, windowMs, clock);
  let failedAt = -Infinity;
  async function viaRedis(
    script: string,
    arg: string,
    keys: readonly string[],
    orElse: () => Promise<number>,
  ): Promise<number> {
    if (redis === undefined || redis.status !== 'ready' || Date.now() - failedAt < FALLBACK_MS)
      return orElse();
    try {
      const reply = await redis.eval(script, keys.length, ...keys.map((k) => prefix + k), arg);
      if (typeof reply !== 'number') throw new Error('unexpected limiter reply from Redis');
      return reply;
    } catch {
      failedAt = Date.now();
      return orElse();
    }
  }
  return {
    blockedFor: (keys) => viaRedis(PEEK_SCRIPT, String(max), keys, () => local.blockedFor(keys)),
    // While Redis answers, failures are also counted here, so a Redis outage does not reopen the budget at once.
    fail: async (keys) => {
      const [shared, own] = await Promise.all([
        viaRedis(FAIL_SCRIPT, String(windowMs), keys, async () => 0),
        local.fail(keys),
      ]);
      return Math.max(shared, own);
    },
  };
}
