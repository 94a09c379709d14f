/** Refresh behaviour of `@jot/client`: single-flight, refresh before expiry, retry once on 401, no loops. */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { createClient, type JotClient } from '../src/index.js';
import { fakeServer, type FakeServer } from '../../../test-support/session-api.js';

const BASE = 'http://jot.test';
let server: FakeServer;
let client: JotClient;

beforeEach(() => {
  vi.useFakeTimers();
  server = fakeServer(60);
});
afterEach(() => {
  client.close();
  vi.useRealTimers();
});

function bearer(margin: number | string = 10): JotClient {
  client = createClient({
    baseUrl: BASE,
    mode: 'bearer',
    fetch: server.fetch,
    refreshMargin: margin,
    locks: null,
  });
  return client;
}

describe('single-flight refresh', () => {
  it('refreshes once for 10 concurrent requests on an expired token', async () => {
    await bearer().login('a@b.c', 'pw');
    vi.setSystemTime(Date.now() + 61_000); // expired, and the timer has not run
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetch('/api/data')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(server.reuse).toBe(0);
  });

  it('refreshes once when 10 requests all come back 401 (token revoked early)', async () => {
    await bearer().login('a@b.c', 'pw');
    server.revokeAccessTokens();
    const responses = await Promise.all(Array.from({ length: 10 }, () => client.fetch('/api/data')));
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(server.count('GET /api/data')).toBe(20);
  });
});

describe('refresh before expiry', () => {
  it('refreshes expires_in - margin after sign-in and announces it', async () => {
    await bearer(10).login('a@b.c', 'pw');
    const refreshed = vi.fn();
    client.on('session:refreshed', refreshed);
    await vi.advanceTimersByTimeAsync(49_000);
    expect(server.count('POST /api/token/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(refreshed).toHaveBeenCalledWith({ expiresAt: expect.any(Number), source: 'local' });
    await client.fetch('/api/data');
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${server.accessTokens[1]}`);
  });

  it.each([120, '2m', '120s'])('reads refreshMargin %p as 120 seconds', async (margin) => {
    server.ttlSeconds = 600;
    await bearer(margin).login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(479_000);
    expect(server.count('POST /api/token/refresh')).toBe(0);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(server.count('POST /api/token/refresh')).toBe(1);
  });

  it('caps the margin at half the lifetime, so a 2 s token is renewed at mid-life, not in a loop', async () => {
    server.ttlSeconds = 2;
    await bearer(30).login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(10_000);
    const refreshes = server.count('POST /api/token/refresh');
    expect(refreshes).toBeGreaterThanOrEqual(9);
    expect(refreshes).toBeLessThanOrEqual(10);
    expect((await client.fetch('/api/data')).status).toBe(200);
  });

  it('unsubscribes a handler', async () => {
    await bearer(10).login('a@b.c', 'pw');
    const handler = vi.fn();
    client.on('session:refreshed', handler)();
    await vi.advanceTimersByTimeAsync(51_000);
    expect(handler).not.toHaveBeenCalled();
  });
});

describe('401 handling', () => {
  it('retries a request once after a refresh', async () => {
    await bearer().login('a@b.c', 'pw');
    server.revokeAccessTokens();
    const res = await client.fetch('/api/data');
    expect(res.status).toBe(200);
    expect(server.calls).toEqual([
      'POST /api/login',
      'GET /api/data',
      'POST /api/token/refresh',
      'GET /api/data',
    ]);
  });

  it('does not refresh again when the retried request is 401 too (no refresh loop)', async () => {
    // A resource that answers 401 even to a fresh token.
    client = createClient({
      baseUrl: BASE,
      mode: 'bearer',
      locks: null,
      fetch: (input, init) =>
        new Request(input, init).url.endsWith('/api/always-401')
          ? Promise.resolve(new Response('{}', { status: 401 }))
          : server.fetch(input, init),
    });
    await client.login('a@b.c', 'pw');
    const res = await client.fetch('/api/always-401');
    expect(res.status).toBe(401);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(client.signedIn).toBe(true);
  });

  it('ends the session when the refresh is refused, and returns the 401', async () => {
    await bearer().login('a@b.c', 'pw');
    const ended = vi.fn();
    client.on('session:ended', ended);
    server.revokeAccessTokens();
    server.endSession();
    expect((await client.fetch('/api/data')).status).toBe(401);
    expect(ended).toHaveBeenCalledWith({ reason: 'refresh-failed' });
    expect(client.signedIn).toBe(false);
    expect((await client.fetch('/api/data')).status).toBe(401);
    expect(server.count('POST /api/token/refresh')).toBe(1);
  });
});
