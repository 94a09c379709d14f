/**
 * A sign-in voids a refresh of the previous session still in flight (it bumps the epoch, as a sign-out does). Before,
 * the old refresh's answer, arriving after the new sign-in, was applied to the NEW session: a success replaced the
 * new session's tokens with the old session's (an account switch undone), and a refusal ended the new session
 * ('refresh-failed') — in cookie/memory mode in every tab. The same holds for a sign-in in another tab.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClient, type FetchLike, type JotClient } from '../src/index.js';
import { fakeServer } from '../../../test-support/session-api.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';
import { BASE, fakeSessionPerTest } from './support/fake-session.js';
import { gate } from './support/gate.js';

const isRefresh = (input: RequestInfo | URL, init?: RequestInit): boolean =>
  new URL(new Request(input, init).url).pathname === '/api/token/refresh';

describe('a sign-in while a refresh of the previous session is in flight', () => {
  const fake = fakeSessionPerTest();

  it("does not adopt the previous session's refreshed tokens over the new sign-in", async () => {
    const hold = gate();
    const fetch: FetchLike = async (input, init) => {
      const res = await fake.server.fetch(input, init);
      if (isRefresh(input, init)) await hold.wait; // the answer is slow to come back
      return res;
    };
    const client = fake.bearer({ fetch, refreshMargin: 10 });
    await client.login('a@b.c', 'pw'); // session 1: accessTokens[0]
    await vi.advanceTimersByTimeAsync(51_000); // timer refresh of session 1 on the wire: accessTokens[1]
    expect(fake.server.count('POST /api/token/refresh')).toBe(1);
    await client.login('a@b.c', 'pw'); // session 2 (another account, in real life): accessTokens[2]
    hold.open();
    await vi.advanceTimersByTimeAsync(10);
    await client.fetch('/api/data');
    expect(fake.server.authHeaders.at(-1)).toBe(`Bearer ${fake.server.accessTokens[2]}`);
  });

  it('does not end the new session when the previous session refresh is refused', async () => {
    const hold = gate();
    const fetch: FetchLike = async (input, init) => {
      if (isRefresh(input, init)) await hold.wait; // the request is slow to reach the server
      return fake.server.fetch(input, init);
    };
    const client = fake.bearer({ fetch, refreshMargin: 10 });
    const ended = vi.fn();
    client.on('session:ended', ended);
    await client.login('a@b.c', 'pw');
    await vi.advanceTimersByTimeAsync(51_000); // timer refresh of session 1 starts
    await client.login('a@b.c', 'pw'); // session 2; session 1's refresh token is dead on the server
    hold.open();
    await vi.advanceTimersByTimeAsync(10);
    expect(ended).not.toHaveBeenCalled();
    expect(client.signedIn).toBe(true);
  });
});

describe("another tab's sign-in while this tab refreshes the previous session", () => {
  const tabs: JotClient[] = [];
  afterEach(() => {
    for (const t of tabs.splice(0)) t.close();
  });

  it("is not undone by the previous session's refresh answer, here or in the tab that signed in", async () => {
    const server = fakeServer(60);
    const locks = fakeLocks();
    const hold = gate();
    let holding = false;
    const slowB: FetchLike = async (input, init) => {
      const res = await server.fetch(input, init);
      if (holding && isRefresh(input, init)) await hold.wait; // tab B's refresh answer is slow to come back
      return res;
    };
    const options = { baseUrl: BASE, mode: 'memory', locks, storageKey: 'login-voids' } as const;
    const a = createClient({ ...options, fetch: server.fetch });
    const b = createClient({ ...options, fetch: slowB });
    tabs.push(a, b);
    const startedB = next(b, 'session:started');
    await a.login('a@b.c', 'pw'); // session 1: accessTokens[0], in both tabs
    await startedB;
    server.revokeAccessTokens();
    holding = true;
    const request = b.fetch('/api/data'); // 401, then a refresh of session 1 (accessTokens[1]) whose answer waits
    await vi.waitFor(() => expect(server.count('POST /api/token/refresh')).toBe(1));
    const heard = next(b, 'session:refreshed'); // tab B, still signed in, adopts the new session's token
    await a.login('a@b.c', 'pw'); // session 2 (another account, in real life): accessTokens[2]
    expect(await heard).toMatchObject({ source: 'other-tab' });
    hold.open();
    await request;
    await new Promise((r) => setTimeout(r, 50)); // let any broadcast of tab B reach tab A
    await a.fetch('/api/data');
    await b.fetch('/api/data');
    expect(server.authHeaders.slice(-2)).toEqual([
      `Bearer ${server.accessTokens[2]}`,
      `Bearer ${server.accessTokens[2]}`,
    ]);
  });
});
