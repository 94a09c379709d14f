/**
 * The throttle behind `rate_limited` and `csrf_rejected` events: one event per key and window; past the keys a window
 * remembers, one `overflow` per window instead of silence; expired keys make room again.
 */
import { describe, expect, it } from 'vitest';

import { eventThrottle } from '../src/http/event-throttle.js';

describe('eventThrottle', () => {
  it('records a key once per window, and again after it', () => {
    const throttle = eventThrottle(1000);
    expect(throttle('a', 0)).toBe('record');
    expect(throttle('a', 999)).toBe('skip');
    expect(throttle('b', 999)).toBe('record');
    expect(throttle('a', 1000)).toBe('record');
  });

  it('past its bound, answers overflow once per window rather than going silent', () => {
    const throttle = eventThrottle(1000, 3);
    for (const key of ['a', 'b', 'c']) expect(throttle(key, 0)).toBe('record');
    // A flood of new keys: one overflow for the window, then skips.
    expect(throttle('d', 10)).toBe('overflow');
    expect(throttle('e', 20)).toBe('skip');
    expect(throttle('a', 30)).toBe('skip');
    // The window passes: the remembered keys expire and new ones are recorded again.
    expect(throttle('f', 1000)).toBe('record');
    expect(throttle('d', 1000)).toBe('record');
  });

  it('drops expired keys in the order they came, however many there are', () => {
    const throttle = eventThrottle(100, 10_000);
    for (let i = 0; i < 10_000; i++) throttle(`k${i}`, i / 100);
    expect(throttle('late', 99)).toBe('overflow');
    // At 150 the first half (inserted before 50) has expired: room again.
    expect(throttle('later', 150)).toBe('record');
    expect(throttle('k9999', 150)).toBe('skip');
  });
});
