/**
 * Session lifecycle edge cases: tokens longer-lived than `setTimeout` can wait, a sign-out racing a refresh that is
 * already on the wire, and a client closed while a refresh is in flight.
 */
import { describe, expect, it, vi } from 'vitest';

import type { FetchLike, JotClient } from '../src/index.js';
import { createRefreshTimer, MAX_TIMEOUT_MS } from '../src/refresh-timer.js';
import { fakeSessionPerTest } from './support/fake-session.js';
import { gate } from './support/gate.js';

const DAY_MS = 86_400_000;
const fake = fakeSessionPerTest();

function pathOf(input: RequestInfo | URL, init?: RequestInit): string {
  return new URL(new Request(input, init).url).pathname;
}

function bearer(fetch: FetchLike, margin = 10): JotClient {
  return fake.bearer({ fetch, refreshMargin: margin });
}

/** Records session events in order. */
function record(c: JotClient): string[] {
  const events: string[] = [];
  c.on('session:started', () => events.push('started'));
  c.on('session:refreshed', () => events.push('refreshed'));
  c.on('session:ended', ({ reason }) => events.push(`ended:${reason}`));
  return events;
}

describe('long-lived tokens (beyond the 2^31-1 ms setTimeout limit)', () => {
  it('does not refresh a 30-day token at once, and refreshes it before it expires', async () => {
    fake.server.ttlSeconds = 30 * 86_400;
    await bearer(fake.server.fetch, 30).login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
    // Past the first (clamped) wake-up at ~24.8 days: the token is still fresh, so the timer only re-arms.
    await vi.advanceTimersByTimeAsync(25 * DAY_MS);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(5 * DAY_MS - 60_000);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
  });

  it('never arms a timer longer than setTimeout can hold, and refuses a non-finite expiry', () => {
    const onFire = vi.fn();
    const spy = vi.spyOn(globalThis, 'setTimeout');
    const timer = createRefreshTimer(30_000, onFire);
    timer.schedule(Date.now() + 365 * DAY_MS);
    expect(spy.mock.calls.at(-1)?.[1]).toBe(MAX_TIMEOUT_MS);
    expect(() => timer.schedule(Infinity)).toThrow(RangeError);
    expect(() => timer.schedule(Number.NaN)).toThrow(RangeError);
    timer.cancel();
    spy.mockRestore();
    expect(onFire).not.toHaveBeenCalled();
  });

  it('refuses a token response whose expiry overflows to Infinity', async () => {
    const huge: FetchLike = async (input, init) =>
      pathOf(input, init) === '/api/login'
        ? new Response(
            JSON.stringify({
              token_type: 'Bearer',
              expires_in: 1e306,
              access_token: 'a',
              refresh_token: 'r',
            }),
          )
        : fake.server.fetch(input, init);
    await expect(bearer(huge).login('a@b.c', 'pw')).rejects.toMatchObject({
      code: 'ERR_CLIENT_BAD_RESPONSE',
    });
    expect(fake.client.signedIn).toBe(false);
  });
});

describe('sign-out racing a refresh', () => {
  it('a timer refresh cannot start while the sign-out request is on its way', async () => {
    const logoutSent = gate();
    const slow: FetchLike = async (input, init) => {
      if (pathOf(input, init) === '/api/logout') await logoutSent.wait; // slow to reach the server
      return fake.server.fetch(input, init);
    };
    const events = record(bearer(slow));
    await fake.client.login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(49_000); // 11 s left, margin 10 s: still fresh, the timer is due in 1 s
    const out = fake.client.logout();
    await vi.advanceTimersByTimeAsync(5_000); // the timer would have fired here
    logoutSent.open();
    await out;
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
    expect(fake.client.signedIn).toBe(false);
    expect(events).toEqual(['started', 'ended:logout']);
  });

  it('a refresh answer arriving after sign-out is dropped: the tab stays signed out', async () => {
    const answer = gate();
    let holding = false;
    const net: FetchLike = async (input, init) => {
      const path = pathOf(input, init);
      // A resource that refuses the token, so the client refreshes.
      if (path === '/api/poll') return new Response('{}', { status: 401 });
      const res = await fake.server.fetch(input, init);
      if (path === '/api/token/refresh') {
        holding = true;
        await answer.wait; // the server rotated the token; the answer is slow to come back
      }
      return res;
    };
    const events = record(bearer(net));
    await fake.client.login('a@b.c', 'pw');
    const poll = fake.client.fetch('/api/poll');
    await vi.waitFor(() => expect(holding).toBe(true));
    await fake.client.logout(); // the access token is still fresh: the logout goes out at once
    expect(fake.client.signedIn).toBe(false);
    answer.open();
    expect((await poll).status).toBe(401);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fake.client.signedIn).toBe(false);
    expect(fake.client.expiresAt).toBeUndefined();
    expect(events).toEqual(['started', 'ended:logout']);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
  });
});

describe('close()', () => {
  it('a refresh in flight at close() arms no timer and changes nothing', async () => {
    const answer = gate();
    let holding = false;
    const net: FetchLike = async (input, init) => {
      const res = await fake.server.fetch(input, init);
      if (pathOf(input, init) === '/api/token/refresh') {
        holding = true;
        await answer.wait;
      }
      return res;
    };
    const refreshed = vi.fn();
    bearer(net).on('session:refreshed', refreshed);
    await fake.client.login('a@b.c', 'pw');
    const expiresAt = fake.client.expiresAt;
    fake.server.revokeAccessTokens();
    const request = fake.client.fetch('/api/data');
    await vi.waitFor(() => expect(holding).toBe(true));
    fake.client.close();
    answer.open();
    await request;
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10 * 60_000);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    expect(refreshed).not.toHaveBeenCalled();
    expect(fake.client.expiresAt).toBe(expiresAt);
  });
});
