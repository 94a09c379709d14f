/**
 * While Redis is down, rate limits are counted per instance in a bounded map. Making room must never reopen a spent
 * budget whose window still runs: a flood of new keys (many addresses, or many IPv6 /64s) would otherwise reset, say,
 * one address's 15-minute mail budget.
 */
import type { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';

import { fallbackRateLimitStore } from '../src/http/rate-limit-store.js';

type Result = { current: number; ttl: number };

describe('rate-limit fallback store while Redis is down', () => {
  it('keeps a spent budget spent until its window ends', async () => {
    const redis = { status: 'reconnecting' } as unknown as Redis;
    const Store = fallbackRateLimitStore(redis, 'jot:rl:', { warn: () => undefined, info: () => undefined });
    const root = new (Store as unknown as new (o: object) => { child(o: object): any })({});
    const mail = root.child({ routeInfo: {} }); // createRateLimit: mailAddressLimit (5 / 15 min)
    const login = root.child({ routeInfo: { method: 'POST', url: '/api/login' } }); // per address, 10 / min
    const incr = (store: any, key: string, window: number, max: number): Promise<Result> =>
      new Promise((resolve, reject) =>
        store.incr(key, (e: Error | null, r: Result) => (e ? reject(e) : resolve(r)), window, max),
      );

    const FIFTEEN_MIN = 15 * 60_000;
    for (let i = 0; i < 5; i += 1) await incr(mail, 'mail:victim', FIFTEEN_MIN, 5);
    expect((await incr(mail, 'mail:victim', FIFTEEN_MIN, 5)).current).toBe(6); // over the budget of 5

    // Ordinary traffic (or an attacker's IPv6 /64s) within the same 15 minutes.
    for (let i = 0; i < 10_000; i += 1)
      await incr(login, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`, 60_000, 10);

    // Still within the victim's 15-minute window: the count must not have restarted.
    expect((await incr(mail, 'mail:victim', FIFTEEN_MIN, 5)).current).toBeGreaterThan(5);
  });
});
