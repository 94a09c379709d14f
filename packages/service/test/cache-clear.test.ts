/**
 * `clear()` forgets every token, including the ones still being fetched: a fetch in flight answers the callers
 * already waiting for it but does not put its token back in the cache, and the next call fetches anew.
 */
import { describe, expect, it } from 'vitest';

import type { OAuthTokenResponse } from '@jot/contract';

import { createServiceClient } from '../src/index.js';
import { TokenCache } from '../src/token-cache.js';

describe('clear()', () => {
  it('keeps a fetch in flight from repopulating the cache', async () => {
    const answers: ((token: string) => void)[] = [];
    const fetch = () =>
      new Promise<OAuthTokenResponse>((resolve) =>
        answers.push((token) => resolve({ access_token: token, token_type: 'Bearer', expires_in: 900 })),
      );
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => 0 });
    const before = cache.get('k', fetch);
    cache.clear();
    const after = cache.get('k', fetch); // not the fetch from before clear()
    expect(answers).toHaveLength(2);
    answers[0]!('old');
    expect(await before).toBe('old');
    answers[1]!('new');
    expect(await after).toBe('new');
    expect(await cache.get('k', fetch)).toBe('new');
    cache.clear();
    const again = cache.get('k', fetch);
    expect(answers).toHaveLength(3);
    answers[2]!('newer');
    expect(await again).toBe('newer');
  });

  it('of the service client: a token fetched across clear() is not served afterwards', async () => {
    const answers: ((token: string) => void)[] = [];
    const service = createServiceClient({
      issuer: 'https://auth.example.com',
      tokenEndpoint: 'https://auth.example.com/oauth/token',
      clientId: 'billing',
      clientSecret: 's'.repeat(40),
      fetch: () =>
        new Promise<Response>((resolve) =>
          answers.push((token) =>
            resolve(Response.json({ access_token: token, token_type: 'Bearer', expires_in: 900 })),
          ),
        ),
    });
    const before = service.token();
    await new Promise((resolve) => setImmediate(resolve));
    service.clear(); // e.g. the client's key was rotated
    answers[0]!('old');
    expect(await before).toBe('old');
    const after = service.token();
    await new Promise((resolve) => setImmediate(resolve));
    expect(answers).toHaveLength(2);
    answers[1]!('new');
    expect(await after).toBe('new');
  });
});
