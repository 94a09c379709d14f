/**
 * A refresh that fails transiently is retried by the timer within the server's grace window. Here the timer's
 * refresh reaches the server (which rotates the refresh token) but its answer is lost — or replaced by a page that
 * is not JSON (a proxy, a captive portal); without a retry the next
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
});
afterAll(() => server?.close());

/**
 * Signs `email` in with a client whose next timer refresh reaches the server (which rotates the token) but whose
 * answer `spoil` replaces (throws: lost; returns: another answer); then waits for the client's own retry and checks
 * the session lives on.
 */
async function survivesSpoiledRefresh(email: string, spoil: () => Response): Promise<void> {
  const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  expect(reg.status).toBe(201);
  let spoilNextRefreshAnswer = false;
  const calls: string[] = [];
  const spoiling: FetchLike = async (input, init) => {
    const req = new Request(input, init);
    const path = new URL(req.url).pathname;
    const res = await fetch(req);
    calls.push(`${req.method} ${path} ${res.status}`);
    if (spoilNextRefreshAnswer && path === '/api/token/refresh') {
      spoilNextRefreshAnswer = false;
      return spoil();
    }
    return res;
  };
  const client: JotClient = createClient({
    mode: 'bearer',
    baseUrl: server.url,
    fetch: spoiling,
    locks: null,
    broadcast: false,
  });
  const ended = vi.fn();
  client.on('session:ended', ended);
  try {
    await client.login(email, PASSWORD);
    spoilNextRefreshAnswer = true;
    // The timer's refresh at ~2 s is spoiled while the app is idle; the client must retry on its own. Without the
    // retry no second refresh comes (and the app's next request would find the spent token past the grace).
    const refreshed = () => calls.filter((c) => c === 'POST /api/token/refresh 200').length;
    await vi.waitFor(() => expect(refreshed()).toBeGreaterThanOrEqual(2), { timeout: 15_000, interval: 50 });
    const who = await client.whoami().catch((e: unknown) => e);
    expect(calls).not.toContain('POST /api/token/refresh 401');
    expect(ended).not.toHaveBeenCalled();
    expect(who).toMatchObject({ user: { email } });
  } finally {
    client.close();
  }
}

describe('a refresh whose answer is lost', () => {
  it('is retried in time, so the session is not ended as refresh-token reuse', async () => {
    await survivesSpoiledRefresh('lost@example.com', () => {
      throw new TypeError('fetch failed'); // the server did the rotation; the answer never arrived
    });
  });

  it('a 200 whose body is not JSON (a proxy or captive portal page) is retried too, not left unrefreshed', async () => {
    await survivesSpoiledRefresh(
      'portal@example.com',
      () =>
        new Response('<html><body>Please sign in to the Wi-Fi</body></html>', {
          status: 200,
          headers: { 'content-type': 'text/html' },
        }),
    );
  });
});
