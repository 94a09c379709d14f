/**
 * A full token cache forgets its least recently used token, not all of them: a service calling `fetchAs` for many
 * users keeps its own client-credentials token as long as it keeps using it.
 */
import { describe, expect, it } from 'vitest';

import type { OAuthTokenResponse } from '@jot/contract';

import { TokenCache } from '../src/token-cache.js';

describe('token cache eviction', () => {
  it('forgets the least recently used token when full', async () => {
    const fetched: string[] = [];
    const fetchFor = (key: string) => () => {
      fetched.push(key);
      return Promise.resolve<OAuthTokenResponse>({
        access_token: key,
        token_type: 'Bearer',
        expires_in: 900,
      });
    };
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => 0, maxEntries: 3 });
    const get = (key: string) => cache.get(key, fetchFor(key));
    await get('own');
    await get('user-1');
    await get('user-2');
    await get('own'); // used again: now the most recent
    await get('user-3'); // full: user-1 goes
    expect(fetched).toEqual(['own', 'user-1', 'user-2', 'user-3']);
    await get('own');
    await get('user-2');
    await get('user-3');
    expect(fetched).toHaveLength(4);
    await get('user-1');
    expect(fetched).toEqual(['own', 'user-1', 'user-2', 'user-3', 'user-1']);
  });

  it("keeps a service's own token through a thousand users' exchanges", async () => {
    let fetches = 0;
    const fetch = () => {
      fetches += 1;
      return Promise.resolve<OAuthTokenResponse>({
        access_token: `t${fetches}`,
        token_type: 'Bearer',
        expires_in: 900,
      });
    };
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => 0 });
    expect(await cache.get('own', fetch)).toBe('t1');
    for (let user = 0; user < 1500; user += 1) {
      await cache.get(`user-${user}`, fetch);
      if (user % 100 === 0) expect(await cache.get('own', fetch)).toBe('t1');
    }
    expect(fetches).toBe(1501);
  });
});
