/**
 * Renewal of a cached token that is still valid: from `renewBefore` ahead of expiry a renewal runs in the background
 * while callers keep getting the cached token at once; in the token's last seconds (10 s, or half the renewal window
 * of a short-lived token) they wait for the renewal. A failed renewal never throws away a token that is still valid:
 * it is served until it expires, and the next renewal starts no sooner than 5 s later — one at a time.
 */
import { describe, expect, it } from 'vitest';

import type { OAuthTokenResponse } from '@jot/contract';

import { createServiceClient } from '../src/index.js';
import { TokenCache } from '../src/token-cache.js';

const TOKEN = 'https://auth.example.com/oauth/token';
const PENDING = Symbol('pending');

/** What `promise` has settled to by the next turn of the event loop, or PENDING. */
async function settled<T>(promise: Promise<T>): Promise<T | typeof PENDING> {
  return Promise.race([
    promise,
    new Promise<typeof PENDING>((resolve) => setImmediate(() => resolve(PENDING))),
  ]);
}

/** A token endpoint whose answers the test settles one by one. */
function controlledEndpoint() {
  const calls: { resolve: (token: string) => void; reject: (err: Error) => void }[] = [];
  const fetch = () =>
    new Promise<OAuthTokenResponse>((resolve, reject) =>
      calls.push({
        resolve: (token) => resolve({ access_token: token, token_type: 'Bearer', expires_in: 900 }),
        reject,
      }),
    );
  return { calls, fetch };
}

describe('token renewal', () => {
  it('keeps serving a still-valid token when its early renewal fails', async () => {
    let now = 1_000_000;
    let endpointUp = true;
    let issued = 0;
    const service = createServiceClient({
      issuer: 'https://auth.example.com',
      tokenEndpoint: TOKEN,
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      clock: () => now,
      fetch: () =>
        Promise.resolve(
          endpointUp
            ? Response.json({ access_token: `t${++issued}`, token_type: 'Bearer', expires_in: 900 })
            : new Response('down', { status: 503 }),
        ),
    });
    expect(await service.token()).toBe('t1');
    now += 850_000; // 50 s left: inside renewBefore (60 s)
    endpointUp = false;
    await expect(service.token()).resolves.toBe('t1');
    now += 45_000; // 5 s left: callers wait for the renewal, which fails
    await expect(service.token()).resolves.toBe('t1');
    now += 5_000; // expired
    await expect(service.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE', status: 503 });
  });

  it('renews in the background: the cached token at once, one renewal for every caller', async () => {
    let now = 0;
    const { calls, fetch } = controlledEndpoint();
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => now });
    const first = cache.get('k', fetch);
    calls[0]!.resolve('t1');
    expect(await first).toBe('t1');
    now = 840_000; // renewBefore reached
    expect(await settled(cache.get('k', fetch))).toBe('t1');
    expect(await settled(cache.get('k', fetch))).toBe('t1');
    expect(calls).toHaveLength(2);
    calls[1]!.resolve('t2');
    await settled(Promise.resolve());
    expect(await settled(cache.get('k', fetch))).toBe('t2');
    expect(calls).toHaveLength(2);
  });

  it('makes callers wait for the renewal in the last 10 s, and serves the cached token if it fails', async () => {
    let now = 0;
    const { calls, fetch } = controlledEndpoint();
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => now });
    const first = cache.get('k', fetch);
    calls[0]!.resolve('t1');
    await first;
    now = 891_000; // 9 s left
    const waiting = [cache.get('k', fetch), cache.get('k', fetch)];
    expect(await settled(waiting[0]!)).toBe(PENDING);
    expect(calls).toHaveLength(2);
    calls[1]!.reject(new Error('down'));
    expect(await Promise.all(waiting)).toEqual(['t1', 't1']);
    // A renewal that answers in time is waited for.
    now = 896_000;
    const fresh = cache.get('k', fetch);
    expect(calls).toHaveLength(3);
    calls[2]!.resolve('t2');
    expect(await fresh).toBe('t2');
  });

  it('after a failed renewal, tries again no sooner than 5 s later, and fails once the token has expired', async () => {
    let now = 0;
    let attempts = 0;
    let up = true;
    const fetch = () => {
      attempts += 1;
      return up
        ? Promise.resolve<OAuthTokenResponse>({
            access_token: `t${attempts}`,
            token_type: 'Bearer',
            expires_in: 900,
          })
        : Promise.reject(new Error('down'));
    };
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => now });
    expect(await cache.get('k', fetch)).toBe('t1');
    up = false;
    now = 850_000;
    expect(await cache.get('k', fetch)).toBe('t1');
    await settled(Promise.resolve());
    expect(attempts).toBe(2);
    for (const t of [850_000, 852_000, 854_999]) {
      now = t;
      expect(await cache.get('k', fetch)).toBe('t1');
    }
    expect(attempts).toBe(2);
    now = 855_000;
    expect(await cache.get('k', fetch)).toBe('t1');
    expect(attempts).toBe(3);
    await settled(Promise.resolve());
    now = 900_000; // expired: no token to fall back on
    await expect(cache.get('k', fetch)).rejects.toThrow('down');
    await expect(cache.get('k', fetch)).rejects.toThrow('down');
    expect(attempts).toBe(5);
    up = true;
    expect(await cache.get('k', fetch)).toBe('t6');
  });
});
