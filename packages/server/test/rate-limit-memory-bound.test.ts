/**
 * The per-instance rate-limit memory (used without Redis, and while Redis fails) is bounded without ever forgetting
 * a running window: at most `maxKeys` windows of their own plus `sharedWindows` shared ones per window length. A
 * key that finds the memory full of running windows is counted in a shared window (refused early, never late); an
 * ended window makes room; a key in a shared window keeps counting there until that window ends. Small bounds and
 * a controlled clock here; the defaults are LOCAL_MAX_KEYS and LOCAL_SHARED_WINDOWS.
 */
import { describe, expect, it } from 'vitest';

import { LocalWindows, localRateLimitStore } from '../src/http/rate-limit-store.js';

const MINUTE = 60_000;
const FIFTEEN_MIN = 15 * MINUTE;

function windows(options: { maxKeys: number; sharedWindows: number }) {
  let now = 1_000_000;
  let fullWarnings = 0;
  const local = new LocalWindows(() => (fullWarnings += 1), { ...options, clock: () => now });
  return {
    local,
    advance: (ms: number) => (now += ms),
    fullWarnings: () => fullWarnings,
  };
}

describe('per-instance rate-limit memory', () => {
  it('keeps a spent window through a flood of new keys; the flood shares a bounded number of windows', () => {
    const { local, fullWarnings } = windows({ maxKeys: 100, sharedWindows: 8 });
    for (let i = 0; i < 6; i += 1) local.incr('mail:victim', FIFTEEN_MIN);
    for (let i = 0; i < 10_000; i += 1) local.incr(`ip:10.0.${i >> 8}.${i & 255}`, MINUTE);
    expect(local.size).toBe(100);
    expect(local.sharedSize).toBe(8);
    expect(local.incr('mail:victim', FIFTEEN_MIN).current).toBe(7);
    expect(fullWarnings()).toBeGreaterThan(0);
  });

  it('a key that finds the memory full is counted with others, so it is refused early, never late', () => {
    const { local } = windows({ maxKeys: 1, sharedWindows: 1 });
    local.incr('ip:10.0.0.1', MINUTE);
    expect(local.incr('ip:10.0.0.2', MINUTE).current).toBe(1);
    // One shared window: the next new key counts on top of the last one.
    expect(local.incr('ip:10.0.0.3', MINUTE).current).toBe(2);
    expect(local.incr('ip:10.0.0.2', MINUTE).current).toBe(3);
  });

  it('an ended window makes room: once the shared window has ended too, a new key gets a window of its own', () => {
    const { local, advance } = windows({ maxKeys: 2, sharedWindows: 4 });
    local.incr('a', MINUTE);
    local.incr('b', MINUTE);
    local.incr('c', MINUTE); // shared
    advance(MINUTE);
    expect(local.incr('c', MINUTE)).toEqual({ current: 1, ttl: MINUTE });
    expect(local.size).toBe(1); // a and b ended and were dropped; c has its own
    expect(local.incr('c', MINUTE).current).toBe(2);
  });

  it('a key counted in a shared window keeps counting there while it runs, even once room is free again', () => {
    const { local, advance } = windows({ maxKeys: 1, sharedWindows: 1 });
    local.incr('ip:10.0.0.1', MINUTE);
    for (let i = 0; i < 6; i += 1) local.incr('mail:victim', FIFTEEN_MIN); // shared: spent at 6 of 5
    advance(2 * MINUTE); // the one window of its own has ended: room is free
    expect(local.incr('mail:victim', FIFTEEN_MIN).current).toBe(7);
    advance(FIFTEEN_MIN);
    expect(local.incr('mail:victim', FIFTEEN_MIN).current).toBe(1);
    expect(local.size).toBe(1);
  });

  it('shared windows are per window length: a flood of one-minute keys never restarts a 15-minute budget', () => {
    const { local, advance } = windows({ maxKeys: 1, sharedWindows: 1 });
    local.incr('ip:10.0.0.1', FIFTEEN_MIN);
    for (let i = 0; i < 6; i += 1) local.incr('mail:victim', FIFTEEN_MIN);
    for (let minute = 0; minute < 5; minute += 1) {
      local.incr(`ip:10.1.0.${minute}`, MINUTE);
      advance(MINUTE);
    }
    expect(local.incr('mail:victim', FIFTEEN_MIN).current).toBe(7);
  });

  it('warns at most once a minute while the memory is full', async () => {
    let now = 0;
    const warnings: string[] = [];
    const Store = localRateLimitStore(
      'jot:rl:',
      { warn: (_details, message) => warnings.push(message), info: () => undefined },
      { maxKeys: 1, sharedWindows: 2, clock: () => now },
    );
    const store = new (Store as unknown as new (o: object) => { child(o: object): any })({}).child({
      routeInfo: {},
    });
    const incr = (key: string, window = FIFTEEN_MIN): Promise<{ current: number }> =>
      new Promise((resolve, reject) =>
        store.incr(key, (e: Error | null, r: { current: number }) => (e ? reject(e) : resolve(r)), window, 5),
      );
    for (let i = 0; i < 50; i += 1) await incr(`mail:${i}`);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/rate-limit memory is full/);
    now += MINUTE;
    await incr('ip:10.0.0.1', MINUTE); // a window length with no shared window yet: it finds the memory full
    expect(warnings).toHaveLength(2);
    await incr('ip:10.0.0.2', 2 * MINUTE);
    expect(warnings).toHaveLength(2);
  });
});
