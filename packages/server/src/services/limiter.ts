/**
 * Limiters: a bound on how many async tasks run at once (password hashing uses it to keep a core for the event
 * loop), and a failure budget shared by every instance (failed client authentications at the OAuth endpoints).
 */
import type { Redis } from 'ioredis';

import { BoundedWindows, type CountedWindow } from './bounded-windows.js';

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
 * A failure's count in the window of each key it was counted against, in the order of those keys: each key is a
 * budget of its own (an address, a claimed client id), so a caller acting on the `max`th failure asks each key's count
 * — the largest of them would number one key's failure with another's count. Redis's counts when Redis answered,
 * this instance's when it did not.
 */
export type FailureCounts = readonly number[];

/**
 * One attempt's hold on the budget of its keys (`FailureLimiter.reserve`): counted as a failure from the start, so
 * that attempts in flight at once cannot pass the check together; given back when it did not fail.
 */
export interface Reservation {
  /** Milliseconds until the keys have room again when the attempt is refused (nothing is held then); 0 when held. */
  readonly wait: number;
  /**
   * The attempt failed: its place stays spent, and `alsoKeys` count one failure too (without holding or checking
   * anything); the count of each reserved key, then of each of `alsoKeys`, in their order.
   */
  fail(alsoKeys?: readonly string[]): Promise<FailureCounts>;
  /** The attempt did not fail (or presented no credential): its place is given back. */
  release(): Promise<void>;
}

/**
 * A budget of failures per key, in fixed windows: the first failure of a key starts a window of `windowMs`; once it
 * holds `max` failures, `blockedFor` answers how long until the window ends. Checking does not count — only `fail`
 * does — so a caller can refuse before it checks a credential, and success costs the budget nothing. A caller that
 * checks a credential takes a `reserve` first: the check-and-count is then one atomic step, and no burst of
 * concurrent attempts gets more than the budget's worth of checks.
 */
export interface FailureLimiter {
  /** Milliseconds until none of `keys` is over budget; 0 when none is. */
  blockedFor(keys: readonly string[]): Promise<number>;
  /** Counts one failure against each of `keys`; resolves to the count of each, in their order. */
  fail(keys: readonly string[]): Promise<FailureCounts>;
  /** Refuses (a `wait`) when any of `keys` is over budget; else counts the attempt as a failure until released. */
  reserve(keys: readonly string[]): Promise<Reservation>;
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
  /**
   * Told (at most once a minute) when a key finds this instance's windows full of running ones: new keys then
   * share hashed windows, so some callers may be refused early. Tell the operator; never log the keys.
   */
  onFull?: () => void;
  /** Bounds of the per-instance windows (tests make them small): `FAILURE_MAX_KEYS`, `FAILURE_SHARED_WINDOWS`. */
  maxKeys?: number;
  sharedWindows?: number;
}

/**
 * Lua: `wait` = the longest PTTL among `KEYS` holding at least ARGV[`maxArg`] failures (0: none does). In a window's
 * last millisecond Redis answers PTTL 0 while the key still exists and counts: that window still blocks (1 ms), or
 * a failure counted then would land in the ending window — lost with it, and numbered past `max`.
 */
const longestWait = (maxArg: number): string => `
local wait = 0
for _, key in ipairs(KEYS) do
  local count = tonumber(redis.call('GET', key) or '0')
  if count >= tonumber(ARGV[${maxArg}]) then
    local ttl = redis.call('PTTL', key)
    if ttl == 0 then ttl = 1 end
    if ttl > wait then wait = ttl end
  end
end
`;

/** Lua: every key of `KEYS` counted once (a new window lasts ARGV[`windowArg`] ms); `counts` = each key's count. */
const countEach = (windowArg: number): string => `
local counts = {}
for i, key in ipairs(KEYS) do
  local count = redis.call('INCR', key)
  if count == 1 or redis.call('PTTL', key) < 0 then redis.call('PEXPIRE', key, ARGV[${windowArg}]) end
  counts[i] = count
end
`;

const PEEK_SCRIPT = `${longestWait(1)}return wait`;

const FAIL_SCRIPT = `${countEach(1)}return counts`;

/** Lua: `now` = Redis's clock, in Unix milliseconds. */
const redisNow = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
`;

/**
 * Lua: `ends` = when each key's window ends (Unix ms, Redis's clock): what identifies the window a place was held
 * in, since a window's end never moves (`countEach` sets it once) and a window begun later ends later.
 */
const windowEnds = `${redisNow}
local ends = {}
for i, key in ipairs(KEYS) do ends[i] = now + redis.call('PTTL', key) end
`;

/**
 * `{wait, counts, now, ends}`: refused with the longest wait when a key is over budget; else every key counted once
 * (each key's count), Redis's time, and when each key's window ends (`windowEnds`).
 */
const RESERVE_SCRIPT = `${longestWait(1)}if wait > 0 then return {wait, {}, 0, {}} end${countEach(2)}${windowEnds}return {0, counts, now, ends}`;

/**
 * How far (ms) a key's window end may be from the one a place was held in and still be that window: the two are
 * read from Redis's clock by two scripts, a few ms apart at most; a window begun after a restart of Redis (the key
 * lost) ends later by at least the time the restart took.
 */
const SAME_WINDOW_MS = 100;

/**
 * Gives one counted attempt back to each of `KEYS` still counting (never below 0), only while its window is the one
 * the place was held in (ARGV[i]: when that window ends, from `RESERVE_SCRIPT`): a key lost (Redis restarted) and
 * counted again by a later failure is another window, whose places this release never held.
 */
const RELEASE_SCRIPT = `${redisNow}
for i, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  if ttl >= 0 and math.abs(now + ttl - tonumber(ARGV[i])) <= ${SAME_WINDOW_MS}
    and tonumber(redis.call('GET', key) or '0') > 0 then
    redis.call('DECR', key)
  end
end
return 0
`;

/** Windows of their own (one per key) one budget keeps in this instance's memory at most (see `localWindows`). */
export const FAILURE_MAX_KEYS = 10_000;
/** Shared windows one budget keeps for the keys that find its memory full (see `localWindows`). */
export const FAILURE_SHARED_WINDOWS = 1_024;
/** How long counting stays local after Redis failed. */
const FALLBACK_MS = 1_000;
/** Releases owed to Redis one instance keeps at most (the oldest are dropped: their windows end first). */
const OWED_MAX = 10_000;

/**
 * Per-instance windows: what decides and numbers while Redis is absent or failing. Counted while it answers too, so
 * that an outage goes on from what this instance counted — a floor for then, never mixed into Redis's answers.
 */
interface LocalWindows {
  blockedFor(keys: readonly string[]): number;
  /** Counts one failure against each of `keys`: the windows counted in, and each key's count. */
  fail(keys: readonly string[]): { windows: CountedWindow[]; counts: FailureCounts };
  /** Gives one counted failure back to each of `windows` still running (never below 0, never to a later window). */
  giveBack(windows: readonly CountedWindow[]): void;
}

/**
 * One window length, in bounded windows (services/bounded-windows.ts): a running window is never dropped, spent or
 * half-spent, so a flood of new keys cannot hand any key a fresh budget; keys that find the memory full share
 * hashed windows (refused early, never late) and `onFull` is told.
 */
function localWindows(options: FailureLimiterOptions): LocalWindows {
  const { max, windowMs } = options;
  const windows = new BoundedWindows({
    maxKeys: options.maxKeys ?? FAILURE_MAX_KEYS,
    sharedWindows: options.sharedWindows ?? FAILURE_SHARED_WINDOWS,
    onFull: options.onFull,
    clock: options.clock,
  });
  return {
    blockedFor(keys) {
      let wait = 0;
      for (const key of keys) wait = Math.max(wait, windows.blockedFor(key, windowMs, max));
      return wait;
    },
    fail(keys) {
      const counted = keys.map((key) => windows.count(key, windowMs));
      return { windows: counted, counts: counted.map((w) => w.count) };
    },
    giveBack(counted) {
      for (const window of counted) windows.giveBack(window);
    },
  };
}

/** A place held on Redis: its key, and when its window ends (`until`, this process's clock; `endsAt`, Redis's). */
interface HeldPlace {
  readonly key: string;
  readonly until: number;
  readonly endsAt: number;
}

/**
 * Places held on Redis whose release was not sent (Redis down, or in the second after a failure): given back there
 * once Redis answers again, while their window lasts (`until`, this process's time) and only into that window
 * (`endsAt`: after a restart of Redis, a later failure re-creates the key in a new window, which the release must not
 * open). Without this, every success that ended during a blip stayed counted as a failure on Redis for the rest of
 * its window, and a burst of them closed an address that had failed nothing. A release that was sent and failed (a
 * timeout) may have run: it is not owed again (giving a place back twice would open one attempt too many); its place
 * ends with its window.
 */
function owedReleases(prefix: string): {
  pending(): boolean;
  owe(places: readonly HeldPlace[]): void;
  /** Gives the owed places back on Redis, in one script; those whose window has ended are dropped. */
  settle(client: Redis, failed: () => void): Promise<void>;
} {
  let owed: HeldPlace[] = [];
  return {
    pending: () => owed.length > 0,
    owe(places) {
      owed.push(...places);
      if (owed.length > OWED_MAX) owed = owed.slice(owed.length - OWED_MAX);
    },
    async settle(client, failed) {
      const now = Date.now();
      const due = owed.filter((o) => o.until > now);
      owed = [];
      if (due.length === 0) return;
      try {
        await client.eval(
          RELEASE_SCRIPT,
          due.length,
          ...due.map((o) => prefix + o.key),
          ...due.map((o) => String(o.endsAt)),
        );
      } catch {
        // Unknown whether it ran: not owed again.
        failed();
      }
    },
  };
}

/**
 * Builds a failure budget over Redis (falling back to this instance's memory) or memory alone.
 *
 * Whichever windows decide a call also number its failure: Redis's (shared by every instance) when Redis answered,
 * this instance's only when it did not — never the larger of the two, as it once was. The two are not one window:
 * this instance's begins at its own first failure of a key (later than the shared one when another instance began
 * that) and runs past the shared window's end, carrying a finished window's failures into the next. Callers act on
 * the number (the `max`th records a "budget spent" event, plugins/caller-limits.ts): the first failure of a new
 * shared window was numbered 2 or more — a false event — and a true `max`th numbered past `max` recorded none.
 * When Redis lost its keys (a restart, a flush) its count restarts, and so do the refusals: `blockedFor` and
 * `reserve` decide from Redis whenever it answers, every instance alike. Numbering from the same count keeps the
 * event on the failure that spends the budget every instance enforces; the larger would name a budget no one applies.
 */
export function createFailureLimiter(options: FailureLimiterOptions): FailureLimiter {
  const { redis, prefix, max, windowMs, clock = Date.now } = options;
  if (!Number.isSafeInteger(max) || max < 1) throw new TypeError('max must be a positive integer');
  const local = localWindows({ ...options, clock });
  let failedAt = -Infinity;
  const owed = owedReleases(prefix);
  const usable = (): boolean =>
    redis !== undefined && redis.status === 'ready' && Date.now() - failedAt >= FALLBACK_MS;
  /** Runs `script` on Redis, or answers undefined when Redis is absent, not ready or failing (then local counts). */
  async function viaRedis(script: string, keys: readonly string[], ...args: string[]): Promise<unknown> {
    if (redis === undefined || !usable()) return undefined;
    let reply: unknown;
    try {
      reply = await redis.eval(script, keys.length, ...keys.map((k) => prefix + k), ...args);
    } catch {
      failedAt = Date.now();
      return undefined;
    }
    if (owed.pending()) await owed.settle(redis, () => (failedAt = Date.now()));
    return reply;
  }
  const countedAt = async (keys: readonly string[]): Promise<FailureCounts> => {
    const reply = await viaRedis(FAIL_SCRIPT, keys, String(windowMs));
    // While Redis answers, failures are also counted here, so a Redis outage does not reopen the budget at once.
    const own = local.fail(keys).counts;
    return countsOf(reply, keys.length) ?? own;
  };
  return {
    async blockedFor(keys) {
      const reply = await viaRedis(PEEK_SCRIPT, keys, String(max));
      return typeof reply === 'number' ? reply : local.blockedFor(keys);
    },
    fail: countedAt,
    async reserve(keys) {
      const reply = await viaRedis(RESERVE_SCRIPT, keys, String(max), String(windowMs));
      const heldAt = Date.now();
      const shared = reservedOnRedis(reply, keys.length);
      // Without Redis's answer, this instance alone: the same check-and-count, synchronously.
      const wait = shared?.wait ?? local.blockedFor(keys);
      if (wait > 0) return refused(wait);
      // Held here too (a Redis outage keeps what was counted), or here alone; a release gives back to these windows.
      const own = local.fail(keys);
      // Numbered by the windows that decided the check: Redis's when it answered, never the larger (see above).
      const counts = shared?.counts ?? own.counts;
      let settled = false;
      return {
        wait: 0,
        async fail(alsoKeys = []) {
          if (settled) throw new Error('reservation already settled');
          settled = true;
          // Each key numbered by its own count: the largest would number one key's failure with another's.
          return alsoKeys.length === 0 ? counts : [...counts, ...(await countedAt(alsoKeys))];
        },
        async release() {
          if (settled) throw new Error('reservation already settled');
          settled = true;
          local.giveBack(own.windows);
          if (shared === undefined) return;
          if (usable()) await viaRedis(RELEASE_SCRIPT, keys, ...shared.ends.map(String));
          else owed.owe(heldPlaces(keys, shared, heldAt));
        },
      };
    },
  };
}

/** `keyCount` numbers (each key's count, or when its window ends) from Redis; undefined for anything else. */
function countsOf(reply: unknown, keyCount: number): number[] | undefined {
  if (!Array.isArray(reply) || reply.length !== keyCount) return undefined;
  return reply.every((n): n is number => typeof n === 'number') ? reply : undefined;
}

/**
 * `RESERVE_SCRIPT`'s answer (`counts`: each of the `keyCount` keys' count; `ends`: when its window ends, Redis's
 * clock, as `now`); undefined when Redis did not answer (or answered something else).
 */
function reservedOnRedis(
  reply: unknown,
  keyCount: number,
): { wait: number; counts: FailureCounts; now: number; ends: number[] } | undefined {
  if (!Array.isArray(reply) || typeof reply[0] !== 'number') return undefined;
  const [wait, counted, now, ended] = reply as [number, unknown, unknown, unknown];
  if (wait > 0) return { wait, counts: [], now: 0, ends: [] };
  const counts = countsOf(counted, keyCount);
  const ends = countsOf(ended, keyCount);
  if (typeof now !== 'number' || counts === undefined || ends === undefined) return undefined;
  return { wait, counts, now, ends };
}

/** The places a reservation holds on Redis, `heldAt` (this process's clock) being when Redis's answer came. */
function heldPlaces(
  keys: readonly string[],
  shared: { now: number; ends: readonly number[] },
  heldAt: number,
): HeldPlace[] {
  return shared.ends.map((endsAt, i) => ({
    key: keys[i] ?? '',
    until: heldAt + endsAt - shared.now,
    endsAt,
  }));
}

function refused(wait: number): Reservation {
  const settledAlready = (): never => {
    throw new Error('a refused attempt holds nothing to settle');
  };
  return { wait, fail: async () => settledAlready(), release: async () => settledAlready() };
}
