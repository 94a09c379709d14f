/**
 * The per-instance windows both the HTTP rate limits and the failure budgets count in (services/bounded-windows.ts):
 * counting answers the window counted in; a peek (`blockedFor`) counts nothing and holds no memory; a window is
 * given back to only while it runs, never below 0, and a key's later window is another one; misuse is refused
 * when the windows are built. The bound itself is checked through both users (rate-limit-memory-bound,
 * failure-budget-memory-bound).
 */
import { describe, expect, it } from 'vitest';

import { BoundedWindows } from '../src/services/bounded-windows.js';

const MINUTE = 60_000;

function windows(maxKeys = 2, sharedWindows = 1) {
  let now = 0;
  const local = new BoundedWindows({ maxKeys, sharedWindows, clock: () => now });
  return { local, advance: (ms: number) => (now += ms) };
}

describe('bounded windows', () => {
  it('counts a key in one window until it ends, then in a new one', () => {
    const { local, advance } = windows();
    const first = local.count('a', MINUTE);
    expect(local.count('a', MINUTE)).toBe(first);
    expect(first).toMatchObject({ count: 2, endsAt: MINUTE });
    advance(MINUTE);
    const next = local.count('a', MINUTE);
    expect(next).not.toBe(first);
    expect(next).toMatchObject({ count: 1, endsAt: 2 * MINUTE });
    expect(local.incr('a', MINUTE)).toEqual({ current: 2, ttl: MINUTE });
  });

  it('peeks how long a key is blocked without counting it or holding memory for it', () => {
    const { local, advance } = windows();
    expect(local.blockedFor('a', MINUTE, 1)).toBe(0);
    expect(local.size).toBe(0);
    local.count('a', MINUTE);
    advance(MINUTE / 4);
    expect(local.blockedFor('a', MINUTE, 2)).toBe(0);
    expect(local.blockedFor('a', MINUTE, 1)).toBe((3 * MINUTE) / 4);
    expect(local.count('a', MINUTE).count).toBe(2);
    advance(MINUTE);
    expect(local.blockedFor('a', MINUTE, 1)).toBe(0);
    expect(local.size).toBe(0); // the ended window it found is dropped
  });

  it('gives back only to a running window, never below 0, never to the key’s later window', () => {
    const { local, advance } = windows();
    const held = local.count('a', MINUTE);
    expect(local.giveBack(held)).toBe(true);
    expect(held.count).toBe(0);
    expect(local.giveBack(held)).toBe(false);
    expect(held.count).toBe(0);
    local.count('a', MINUTE);
    advance(MINUTE);
    const later = local.count('a', MINUTE);
    expect(local.giveBack(held)).toBe(false);
    expect(later.count).toBe(1);
    expect(local.giveBack({ count: 5, endsAt: 10 * MINUTE })).toBe(false); // not one of its windows
  });

  it('gives back to the shared window a key was counted in', () => {
    const { local } = windows(1, 1);
    local.count('own', MINUTE);
    const shared = local.count('x', MINUTE);
    expect(local.count('y', MINUTE)).toBe(shared);
    expect(local.sharedSize).toBe(1);
    expect(local.giveBack(shared)).toBe(true);
    expect(local.blockedFor('x', MINUTE, 2)).toBe(0);
  });

  it('refuses bounds that are not positive integers', () => {
    expect(() => new BoundedWindows({ maxKeys: 0, sharedWindows: 1 })).toThrow(TypeError);
    expect(() => new BoundedWindows({ maxKeys: 1, sharedWindows: 1.5 })).toThrow(TypeError);
  });
});
