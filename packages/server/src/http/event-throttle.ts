/**
 * At most one security event per key and window on this instance, so a flood of refused requests does not become
 * a flood of rows. The keys it remembers are bounded; once a window holds more distinct keys than that (a flood from
 * many addresses), the next one is answered `overflow` — once per window — and the rest until the window frees
 * room `skip`: the caller records one event saying so instead of going silent.
 */

/** What to record for a key now. */
export type ThrottleDecision = 'record' | 'overflow' | 'skip';

/** How many distinct keys one window remembers by default. */
export const EVENT_KEYS_PER_WINDOW = 10_000;

/** Says for `key` at `now` whether to record an event. */
export type EventThrottle = (key: string, now: number) => ThrottleDecision;

/** A throttle over `windowMs` remembering at most `limit` keys (see the file header). */
export function eventThrottle(windowMs: number, limit: number = EVENT_KEYS_PER_WINDOW): EventThrottle {
  // Every entry lives windowMs from its insertion, so insertion order is expiry order: expired entries are at the
  // front, and dropping them costs nothing per call beyond the ones that expired.
  const until = new Map<string, number>();
  let overflowUntil = 0;
  return (key, now) => {
    for (const [k, end] of until) {
      if (end > now) break;
      until.delete(k);
    }
    if (until.has(key)) return 'skip';
    if (until.size >= limit) {
      if (overflowUntil > now) return 'skip';
      overflowUntil = now + windowMs;
      return 'overflow';
    }
    until.set(key, now + windowMs);
    return 'record';
  };
}
