/**
 * A transient failure (429, 5xx) of the CSRF bootstrap (`GET /api/token/refresh/csrf`, fetched with the refresh
 * cookie when the tab has no CSRF token) keeps the session, and the refresh is retried. It was read as "no
 * session": the refresh gave up and ended the session ('refresh-failed') in every tab, although the server was only
 * briefly unavailable.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { fakeServer, type FakeServer } from '../../../test-support/session-api.js';
import { createClient, type FetchLike, type JotClient } from '../src/index.js';

const BASE = 'http://jot.test';
let server: FakeServer;
let client: JotClient;

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(Math.ceil(Date.now() / 1000) * 1000); // whoami's exp is whole seconds: no fraction lost
  server = fakeServer(60);
});
afterEach(() => {
  client.close();
  vi.useRealTimers();
});

describe('a transient failure of the CSRF bootstrap', () => {
  it.each([429, 503])('(%i) keeps the session, and the refresh is retried', async (status) => {
    let failBootstrap = true;
    const fetch: FetchLike = async (input, init) => {
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      if (path === '/api/token/refresh/csrf' && failBootstrap) {
        failBootstrap = false;
        return new Response('{"code":"ERR_X"}', {
          status,
          headers: { 'content-type': 'application/json' },
        });
      }
      const res = await server.fetch(req);
      if (path !== '/api/whoami') return res;
      // A page that reloaded and resumed without learning the CSRF token (a proxy that dropped the member).
      const { csrf_token: _dropped, ...who } = (await res.json()) as Record<string, unknown>;
      return Response.json(who, { status: res.status });
    };
    // Sign in with the fake's cookies, then "reload": a new client picks the session up with whoami.
    const first = createClient({
      baseUrl: BASE,
      mode: 'cookie',
      fetch: server.fetch,
      locks: null,
      broadcast: false,
    });
    await first.login('a@b.c', 'pw');
    first.close();
    client = createClient({
      baseUrl: BASE,
      mode: 'cookie',
      fetch,
      refreshMargin: 10,
      locks: null,
      broadcast: false,
    });
    const ended = vi.fn();
    client.on('session:ended', ended);
    expect(await client.resume()).toBe(true);
    await vi.advanceTimersByTimeAsync(50_500); // the timer's refresh: the bootstrap fails
    expect(server.count('POST /api/token/refresh')).toBe(0);
    expect(client.signedIn).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000); // retried: bootstrap, then the refresh
    expect(server.count('GET /api/token/refresh/csrf')).toBe(1);
    expect(server.count('POST /api/token/refresh')).toBe(1);
    expect(client.signedIn).toBe(true);
    expect(ended).not.toHaveBeenCalled();
  });
});
