/** Refresh behaviour of `@jot/client`: single-flight, refresh before expiry, retry once on 401, no loops. */
import { describe, expect, it, vi } from 'vitest';

import type { JotClient } from '../src/index.js';
import { fakeSessionPerTest } from './support/fake-session.js';

const fake = fakeSessionPerTest();

function bearer(margin: number | string = 10): JotClient {
  return fake.bearer({ refreshMargin: margin });
}

describe('single-flight refresh', () => {
  it('refreshes once for 10 concurrent requests on an expired token', async () => {
    await bearer().login('a@b.c', 'pw');
    vi.setSystemTime(Date.now() + 61_000); // expired, and the timer has not run
    const responses = await Promise.all(Array.from({ length: 10 }, () => fake.client.fetch('/api/data')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    expect(fake.server.reuse).toBe(0);
  });

  it('refreshes once when 10 requests all come back 401 (token revoked early)', async () => {
    await bearer().login('a@b.c', 'pw');
    fake.server.revokeAccessTokens();
    const responses = await Promise.all(Array.from({ length: 10 }, () => fake.client.fetch('/api/data')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    expect(fake.server.count('GET /api/data')).toBe(20);
  });
});

describe('refresh before expiry', () => {
  it('refreshes expires_in - margin after sign-in and announces it', async () => {
    await bearer(10).login('a@b.c', 'pw');
    const refreshed = vi.fn();
    fake.client.on('session:refreshed', refreshed);
    await vi.advanceTimersByTimeAsync(49_000);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    expect(refreshed).toHaveBeenCalledWith({ expiresAt: expect.any(Number), source: 'local' });
    await fake.client.fetch('/api/data');
    expect(fake.server.authHeaders.at(-1)).toBe(`Bearer ${fake.server.accessTokens[1]}`);
  });

  it.each([120, '2m', '120s'])('reads refreshMargin %p as 120 seconds', async (margin) => {
    fake.server.ttlSeconds = 600;
    await bearer(margin).login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(479_000);
    expect(fake.server.count('POST /api/token/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
  });

  it('caps the margin at half the lifetime, so a 2 s token is renewed at mid-life, not in a loop', async () => {
    fake.server.ttlSeconds = 2;
    await bearer(30).login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(10_000);
    const refreshes = fake.server.count('POST /api/token/refresh');
    expect(refreshes).toBeGreaterThanOrEqual(9);
    expect(refreshes).toBeLessThanOrEqual(10);
    expect((await fake.client.fetch('/api/data')).status).toBe(200);
  });

  it('unsubscribes a handler', async () => {
    await bearer(10).login('a@b.c', 'pw');
    const handler = vi.fn();
    fake.client.on('session:refreshed', handler)();
    await vi.advanceTimersByTimeAsync(51_000);
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('401 handling', () => {
  it('retries a request once after a refresh', async () => {
    await bearer().login('a@b.c', 'pw');
    fake.server.revokeAccessTokens();
    const res = await fake.client.fetch('/api/data');
    expect(res.status).toBe(200);
    expect(fake.server.calls).toEqual([
      'POST /api/login',
      'GET /api/data',
      'POST /api/token/refresh',
      'GET /api/data',
    ]);
  });

  it('does not refresh again when the retried request is 401 too (no refresh loop)', async () => {
    // A resource that answers 401 even to a fresh token.
    fake.bearer({
      fetch: (input, init) =>
        new Request(input, init).url.endsWith('/api/always-401')
          ? Promise.resolve(new Response('{}', { status: 401 }))
          : fake.server.fetch(input, init),
    });
    await fake.client.login('a@b.c', 'pw');
    const res = await fake.client.fetch('/api/always-401');
    expect(res.status).toBe(401);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    expect(fake.client.signedIn).toBe(true);
  });

  it('ends the session when the refresh is refused, and returns the 401', async () => {
    await bearer().login('a@b.c', 'pw');
    const ended = vi.fn();
    fake.client.on('session:ended', ended);
    fake.server.revokeAccessTokens();
    fake.server.endSession();
    expect((await fake.client.fetch('/api/data')).status).toBe(401);
    expect(ended).toHaveBeenCalledWith({ reason: 'refresh-failed' });
    expect(fake.client.signedIn).toBe(false);
    expect((await fake.client.fetch('/api/data')).status).toBe(401);
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
  });
});
