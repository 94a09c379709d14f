/**
 * A failure budget's per-instance memory (services/limiter.ts over services/bounded-windows.ts: what counts without
 * Redis, and while Redis fails) is bounded without ever reopening a running budget. Before, a flood of new keys
 * evicted the oldest unspent running window — a half-spent one — handing its key a fresh budget (an attacker could
 * reset someone's failure count), and a release arriving after its window ended gave a place back to the key's next
 * window, which it never held. Small bounds and an injected clock here; the defaults are FAILURE_MAX_KEYS and
 * FAILURE_SHARED_WINDOWS.
 */
import { describe, expect, it } from 'vitest';

import { createFailureLimiter, FAILURE_MAX_KEYS, FAILURE_SHARED_WINDOWS } from '../src/services/limiter.js';

const WINDOW = 60_000;

function budget(options: { max: number; maxKeys?: number; sharedWindows?: number }) {
  let now = 1_000_000;
  let fullReports = 0;
  const limiter = createFailureLimiter({
    redis: undefined,
    prefix: 'unused:',
    windowMs: WINDOW,
    clock: () => now,
    onFull: () => (fullReports += 1),
    ...options,
  });
  return { limiter, advance: (ms: number) => (now += ms), fullReports: () => fullReports };
}

/** Fails each of `count` new keys once; how many of those failures began a window (were a window's first). */
async function flood(
  limiter: ReturnType<typeof budget>['limiter'],
  count: number,
  tag = 'flood',
): Promise<number> {
  let begun = 0;
  for (let i = 0; i < count; i += 1) if ((await limiter.fail([`${tag}:${i}`]))[0] === 1) begun += 1;
  return begun;
}

describe('failure budget memory: a flood of new keys', () => {
  it('does not reopen a spent or half-spent running budget', async () => {
    const { limiter } = budget({ max: 3, maxKeys: 4, sharedWindows: 2 });
    for (let i = 0; i < 3; i += 1) await limiter.fail(['ip:spent']);
    await limiter.fail(['ip:half']);
    await flood(limiter, 1_000);
    expect(await limiter.blockedFor(['ip:spent'])).toBeGreaterThan(0);
    // The half-spent budget kept its one failure: two more close it, not three.
    expect(await limiter.fail(['ip:half'])).toEqual([2]);
    expect(await limiter.blockedFor(['ip:half'])).toBe(0);
    expect(await limiter.fail(['ip:half'])).toEqual([3]);
    expect(await limiter.blockedFor(['ip:half'])).toBeGreaterThan(0);
  });

  it('does not reopen a half-spent budget at the default bounds (the eviction this replaced)', async () => {
    const { limiter } = budget({ max: 3 });
    await limiter.fail(['ip:half']);
    await limiter.fail(['ip:half']);
    await flood(limiter, FAILURE_MAX_KEYS + 10);
    expect(await limiter.fail(['ip:half'])).toEqual([3]);
    expect(await limiter.blockedFor(['ip:half'])).toBeGreaterThan(0);
  });

  it('keeps memory bounded: at most the own plus the shared windows are begun while they run', async () => {
    const { limiter, fullReports } = budget({ max: 1_000_000, maxKeys: 4, sharedWindows: 2 });
    expect(await flood(limiter, 500)).toBeLessThanOrEqual(4 + 2);
    expect(fullReports()).toBe(1);
  });

  it('keeps memory bounded at the default bounds (10,000 own + 1,024 shared windows)', async () => {
    expect([FAILURE_MAX_KEYS, FAILURE_SHARED_WINDOWS]).toEqual([10_000, 1_024]);
    const { limiter } = budget({ max: 1_000_000 });
    const begun = await flood(limiter, FAILURE_MAX_KEYS + 5_000);
    expect(begun).toBeGreaterThan(FAILURE_MAX_KEYS);
    expect(begun).toBeLessThanOrEqual(FAILURE_MAX_KEYS + FAILURE_SHARED_WINDOWS);
  });

  it('refuses overflow keys early through their shared window, never late', async () => {
    const { limiter } = budget({ max: 3, maxKeys: 2, sharedWindows: 1 });
    await flood(limiter, 2, 'own');
    // The memory is full of running windows: every new key counts in the one shared window.
    expect(await limiter.fail(['ip:x'])).toEqual([1]);
    expect(await limiter.fail(['ip:y'])).toEqual([2]);
    expect(await limiter.blockedFor(['ip:x'])).toBe(0);
    expect(await limiter.fail(['ip:z'])).toEqual([3]);
    // Early: x failed once, and a key that never failed is refused too, until the shared window ends.
    expect(await limiter.blockedFor(['ip:x'])).toBeGreaterThan(0);
    expect(await limiter.blockedFor(['ip:never-failed'])).toBeGreaterThan(0);
    expect((await limiter.reserve(['ip:never-failed'])).wait).toBeGreaterThan(0);
    // Never late: a key's own failures are all counted in the shared window.
    expect(await limiter.blockedFor(['own:0'])).toBe(0);
  });

  it('reports a full memory at most once a minute', async () => {
    const { limiter, advance, fullReports } = budget({ max: 1_000, maxKeys: 1, sharedWindows: 4 });
    await flood(limiter, 50, 'a');
    expect(fullReports()).toBe(1);
    advance(WINDOW / 2);
    await flood(limiter, 50, 'b');
    expect(fullReports()).toBe(1);
    advance(WINDOW / 2);
    await flood(limiter, 50, 'c'); // the windows above ended: one of its own, then full again
    expect(fullReports()).toBe(2);
  });
});

describe('failure budget memory: ended windows', () => {
  it('drops an ended window: its key starts fresh and its room goes to a new key', async () => {
    const { limiter, advance } = budget({ max: 3, maxKeys: 2, sharedWindows: 1 });
    for (let i = 0; i < 3; i += 1) await limiter.fail(['ip:a']);
    await limiter.fail(['ip:b']);
    expect(await limiter.fail(['ip:c'])).toEqual([1]); // shared
    advance(WINDOW);
    expect(await limiter.blockedFor(['ip:a'])).toBe(0);
    expect(await limiter.fail(['ip:a'])).toEqual([1]);
    // b's ended window makes room for d. With one shared window, had a or d been counted there, the next would
    // count 2: e is the first to find the memory full again, and f shares its window.
    expect(await limiter.fail(['ip:d'])).toEqual([1]);
    expect(await limiter.fail(['ip:e'])).toEqual([1]);
    expect(await limiter.fail(['ip:f'])).toEqual([2]);
  });
});

describe('failure budget memory: releases', () => {
  it('a release within the window gives its place back', async () => {
    const { limiter } = budget({ max: 2, maxKeys: 4, sharedWindows: 2 });
    const first = await limiter.reserve(['ip:a']);
    const second = await limiter.reserve(['ip:a']);
    expect([first.wait, second.wait]).toEqual([0, 0]);
    expect((await limiter.reserve(['ip:a'])).wait).toBeGreaterThan(0);
    await first.release();
    expect(await limiter.blockedFor(['ip:a'])).toBe(0);
    expect((await limiter.reserve(['ip:a'])).wait).toBe(0);
  });

  it('a release after its window ended gives no place to the window the key began since', async () => {
    const { limiter, advance } = budget({ max: 2, maxKeys: 4, sharedWindows: 2 });
    const late = await limiter.reserve(['ip:a']);
    expect(late.wait).toBe(0);
    advance(WINDOW);
    await limiter.fail(['ip:a']);
    await limiter.fail(['ip:a']);
    const wait = await limiter.blockedFor(['ip:a']);
    expect(wait).toBe(WINDOW);
    await late.release();
    expect(await limiter.blockedFor(['ip:a'])).toBe(wait);
  });

  it('a release gives back to the shared window it was counted in, while that window runs', async () => {
    const { limiter, advance } = budget({ max: 2, maxKeys: 1, sharedWindows: 1 });
    await limiter.fail(['own']);
    const held = await limiter.reserve(['ip:x']); // shared
    await limiter.fail(['ip:y']); // shared: spent
    expect(await limiter.blockedFor(['ip:x'])).toBeGreaterThan(0);
    await held.release();
    expect(await limiter.blockedFor(['ip:x', 'ip:y'])).toBe(0);

    const stale = await limiter.reserve(['ip:x']);
    advance(WINDOW);
    await limiter.fail(['ip:x']); // every window ended: ip:x begins one of its own
    expect(await limiter.fail(['ip:y'])).toEqual([1]); // full again (ip:x's own window runs): a new shared window
    await limiter.fail(['ip:x']);
    await limiter.fail(['ip:x']);
    expect(await limiter.blockedFor(['ip:x'])).toBe(WINDOW);
    await stale.release();
    expect(await limiter.blockedFor(['ip:x'])).toBe(WINDOW);
  });
});
