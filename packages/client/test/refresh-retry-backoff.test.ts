/**
 * How a refresh that failed transiently is retried: after 1 s, doubling, never more than 4 s apart (well inside the
 * server's 10 s refresh grace window); a 429's `Retry-After` is honoured within that cap; retries stop at a refusal
 * (which ends the session), a success, or `close()`. Refresh mode (single-token mode: single-token-renewal-retries).
 */
import { describe, expect, it, vi } from 'vitest';

import type { FetchLike } from '../src/index.js';
import { fakeSessionPerTest } from './support/fake-session.js';

const fake = fakeSessionPerTest();

/** A fetch whose refreshes answer `failures.shift()` while any are left, then reach the fake server. */
function failingRefreshes(failures: Array<() => Response>, at: number[]): FetchLike {
  return async (input, init) => {
    const req = new Request(input, init);
    if (new URL(req.url).pathname === '/api/token/refresh') {
      at.push(Date.now());
      const failure = failures.shift();
      if (failure !== undefined) return failure();
    }
    return fake.server.fetch(req);
  };
}

const status =
  (code: number, headers: Record<string, string> = {}) =>
  (): Response =>
    new Response('{"code":"ERR_X"}', {
      status: code,
      headers: { 'content-type': 'application/json', ...headers },
    });

async function signedIn(fetch: FetchLike): Promise<{ ended: ReturnType<typeof vi.fn>; t0: number }> {
  const client = fake.bearer({ fetch, refreshMargin: 10 });
  const ended = vi.fn();
  client.on('session:ended', ended);
  const t0 = Date.now();
  await client.login('a@b.c', 'pw');
  return { ended, t0 };
}

describe('retrying a refresh that failed transiently', () => {
  it('backs off 1, 2, 4, 4 s until the server answers, then refreshes on the normal schedule', async () => {
    const at: number[] = [];
    const fetch = failingRefreshes([status(503), status(502), status(500), status(500)], at);
    const { ended, t0 } = await signedIn(fetch);
    await vi.advanceTimersByTimeAsync(70_000);
    expect(at.map((t) => (t - t0) / 1000)).toEqual([50, 51, 53, 57, 61]);
    expect(fake.client.signedIn).toBe(true);
    expect(fake.client.expiresAt).toBe(t0 + 121_000);
    expect(ended).not.toHaveBeenCalled();
  });

  it("waits for a 429's Retry-After, but never longer than the cap", async () => {
    const at: number[] = [];
    const fetch = failingRefreshes(
      [status(429, { 'retry-after': '3' }), status(429, { 'retry-after': '3600' })],
      at,
    );
    const { t0 } = await signedIn(fetch);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(at.map((t) => (t - t0) / 1000)).toEqual([50, 53, 57]);
    expect(fake.client.signedIn).toBe(true);
  });

  it('stops at a refusal, which ends the session', async () => {
    const at: number[] = [];
    const { ended } = await signedIn(failingRefreshes([status(503), status(401)], at));
    await vi.advanceTimersByTimeAsync(120_000);
    expect(at).toHaveLength(2);
    expect(ended).toHaveBeenCalledWith({ reason: 'refresh-failed' });
  });

  it('stops when the client is closed', async () => {
    const at: number[] = [];
    await signedIn(failingRefreshes([status(503), status(503), status(503)], at));
    await vi.advanceTimersByTimeAsync(50_500);
    fake.client.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(at).toHaveLength(1);
  });

  it('does not retry for a session that was signed out meanwhile', async () => {
    const at: number[] = [];
    await signedIn(failingRefreshes([status(503)], at));
    await vi.advanceTimersByTimeAsync(50_500);
    await fake.client.logout(); // (a stale token is refreshed first, as any request does)
    const before = at.length;
    await vi.advanceTimersByTimeAsync(60_000);
    expect(at).toHaveLength(before);
  });
});
