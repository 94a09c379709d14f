/**
 * Single-token mode: a renewal that fails transiently (the network blips, or the server answers 503) is retried by
 * the timer before the token expires. The access token is the whole session, so without a retry an idle tab whose
 * one renewal hit a blip was signed out at expiry, although the server was back a second later. Retries stop at the
 * token's expiry (an expired token cannot be renewed).
 */
import { describe, expect, it, vi } from 'vitest';

import type { FetchLike } from '../src/index.js';
import { fakeSessionPerTest } from './support/fake-session.js';

const fake = fakeSessionPerTest({ singleToken: true });

describe('transient renewal failure', () => {
  it.each(['network', '503'] as const)(
    'retries a renewal that failed transiently (%s) before the token expires',
    async (failure) => {
      let failNext = false;
      let renewals = 0;
      const fetch: FetchLike = async (input, init) => {
        const req = new Request(input, init);
        if (new URL(req.url).pathname === '/api/token/renew') renewals++;
        if (failNext && new URL(req.url).pathname === '/api/token/renew') {
          failNext = false;
          if (failure === 'network') throw new TypeError('fetch failed');
          return new Response('{"code":"ERR_UNAVAILABLE"}', {
            status: 503,
            headers: { 'content-type': 'application/json' },
          });
        }
        return fake.server.fetch(req);
      };
      const client = fake.bearer({ fetch, tokenMode: 'single', refreshMargin: 10 });
      const ended = vi.fn();
      client.on('session:ended', ended);
      await client.login('a@b.c', 'pw');
      failNext = true;
      await vi.advanceTimersByTimeAsync(50_500); // the timer's renewal at 50 s fails once
      expect(renewals).toBe(1);
      await vi.advanceTimersByTimeAsync(10_000); // 60.5 s: the first token has expired, the tab was idle
      expect(renewals).toBe(2); // retried 1 s after the failure
      const res = await client.fetch('/api/data');
      expect(res.status).toBe(200);
      expect(client.signedIn).toBe(true);
      expect(ended).not.toHaveBeenCalled();
    },
  );

  it('stops retrying at the expiry of the access token', async () => {
    let renewals = 0;
    const fetch: FetchLike = async (input, init) => {
      const req = new Request(input, init);
      if (new URL(req.url).pathname !== '/api/token/renew') return fake.server.fetch(req);
      renewals++;
      throw new TypeError('fetch failed'); // the server stays unreachable
    };
    const client = fake.bearer({ fetch, tokenMode: 'single', refreshMargin: 10 });
    await client.login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(120_000);
    // At 50 s, then 1, 2, 4 and 4 s later (51, 53, 57 s); the next one (61 s) would be after the 60 s expiry.
    expect(renewals).toBe(4);
  });
});
