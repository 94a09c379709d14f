/**
 * A refresh that fails transiently is retried by the timer within the server's grace window. Here the timer's
 * refresh reaches the server (which rotates the refresh token) but its answer is lost; without a retry the next
 * refresh came only with the app's next request, past the grace window, presenting the spent token again: 401
 * ERR_REFRESH_TOKEN_REUSED, the whole session revoked. The client's first retry comes 1 s after the failure, so the
 * test's grace window is 2 s (the default is 10 s); the test waits (with a deadline) for the retry's answer.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createClient, type FetchLike, type JotClient } from '../src/index.js';

const PASSWORD = 'correct horse battery';
let server: TestServer;

beforeAll(async () => {
  // 4 s tokens (refreshed at 2 s), and a 2 s grace window so the test is quick (the default is 10 s).
  server = await startServer({ accessTokenTtl: '4s', refreshGraceWindow: '2s', clockTolerance: '0s' });
  const reg = await server.request('POST', '/api/register', {
    body: { email: 'lost@example.com', password: PASSWORD },
  });
  expect(reg.status).toBe(201);
});
afterAll(() => server?.close());

describe('a refresh whose answer is lost', () => {
  it('is retried in time, so the session is not ended as refresh-token reuse', async () => {
    let dropNextRefreshAnswer = false;
    const calls: string[] = [];
    const lossy: FetchLike = async (input, init) => {
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      const res = await fetch(req);
      calls.push(`${req.method} ${path} ${res.status}`);
      if (dropNextRefreshAnswer && path === '/api/token/refresh') {
        dropNextRefreshAnswer = false;
        throw new TypeError('fetch failed'); // the server did the rotation; the answer never arrived
      }
      return res;
    };
    const client: JotClient = createClient({
      mode: 'bearer',
      baseUrl: server.url,
      fetch: lossy,
      locks: null,
      broadcast: false,
    });
    const ended = vi.fn();
    client.on('session:ended', ended);
    try {
      await client.login('lost@example.com', PASSWORD);
      dropNextRefreshAnswer = true;
      // The timer's refresh at ~2 s loses its answer while the app is idle; the client must retry on its own. Without
      // the retry no second refresh comes (and the app's next request would find the spent token past the grace).
      const refreshed = () => calls.filter((c) => c === 'POST /api/token/refresh 200').length;
      await vi.waitFor(() => expect(refreshed()).toBeGreaterThanOrEqual(2), {
        timeout: 15_000,
        interval: 50,
      });
      const who = await client.whoami().catch((e: unknown) => e);
      expect(calls).not.toContain('POST /api/token/refresh 401');
      expect(ended).not.toHaveBeenCalled();
      expect(who).toMatchObject({ user: { email: 'lost@example.com' } });
    } finally {
      client.close();
    }
  });

  it('a 200 whose body is not JSON (a proxy or captive portal page) is retried too, not left unrefreshed', async () => {
    const reg = await server.request('POST', '/api/register', {
      body: { email: 'portal@example.com', password: PASSWORD },
    });
    expect(reg.status).toBe(201);
    let replaceNextRefreshAnswer = false;
    const calls: string[] = [];
    const portal: FetchLike = async (input, init) => {
      const req = new Request(input, init);
      const path = new URL(req.url).pathname;
      const res = await fetch(req);
      calls.push(`${req.method} ${path} ${res.status}`);
      if (replaceNextRefreshAnswer && path === '/api/token/refresh') {
        replaceNextRefreshAnswer = false;
        return new Response('<html><body>Please sign in to the Wi-Fi</body></html>', {
          status: 200,
          headers: { 'content-type': 'text/html' },
        });
      }
      return res;
    };
    const client: JotClient = createClient({
      mode: 'bearer',
      baseUrl: server.url,
      fetch: portal,
      locks: null,
      broadcast: false,
    });
    const ended = vi.fn();
    client.on('session:ended', ended);
    try {
      await client.login('portal@example.com', PASSWORD);
      replaceNextRefreshAnswer = true;
      const refreshed = () => calls.filter((c) => c === 'POST /api/token/refresh 200').length;
      await vi.waitFor(() => expect(refreshed()).toBeGreaterThanOrEqual(2), {
        timeout: 15_000,
        interval: 50,
      });
      const who = await client.whoami().catch((e: unknown) => e);
      expect(calls).not.toContain('POST /api/token/refresh 401');
      expect(ended).not.toHaveBeenCalled();
      expect(who).toMatchObject({ user: { email: 'portal@example.com' } });
    } finally {
      client.close();
    }
  });
});
