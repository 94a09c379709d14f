/**
 * `@jot/client` with `dpop: true` against a real Jot server (Node: WebCrypto key in memory): sign-in, requests and
 * refresh carry proofs, the session's tokens are bound to the key, nonces are answered by themselves, and a token
 * taken out of the client is refused without the key.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import {
  createClient,
  createDPoPSigner,
  memoryKeyStore,
  type FetchLike,
  type JotClient,
} from '../src/index.js';
import { next } from './session-events.js';

const PASSWORD = 'correct horse battery';

describe.each([
  ['without nonces', {}],
  ['with server nonces and DPoP required', { dpop: 'required', dpopNonce: true }],
] as const)('DPoP client (%s)', (_name, settings) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ ...settings, accessTokenTtl: '2s', clockTolerance: '0s' });
    await server.request('POST', '/api/register', { body: { email: 'c@example.com', password: PASSWORD } });
  });
  afterAll(() => server?.close());

  /** A bearer-mode DPoP client of the server, alone in its tab, sending its requests through `fetch`. */
  function dpopClient(fetch: FetchLike): JotClient {
    return createClient({
      mode: 'bearer',
      baseUrl: server.url,
      dpop: true,
      locks: null,
      broadcast: false,
      fetch,
    });
  }

  it('signs in, calls and refreshes with proofs; the token is refused without the key', async () => {
    const seen: Request[] = [];
    const client = dpopClient((input, init) => {
      const request = new Request(input, init);
      seen.push(request.clone());
      return fetch(request);
    });
    try {
      await client.login('c@example.com', PASSWORD);
      const who = await client.whoami();
      expect(typeof (who.claims.cnf as { jkt?: unknown }).jkt).toBe('string');
      const api = seen.filter((r) => r.url.endsWith('/api/whoami')).at(-1)!;
      const token = api.headers.get('authorization')!.replace(/^DPoP /, '');
      expect(api.headers.get('authorization')).toMatch(/^DPoP /);
      expect(api.headers.get('dpop')).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+$/);
      expect(seen.every((r) => r.headers.get('dpop') !== null)).toBe(true);

      // Replayed from elsewhere: as Bearer, and as DPoP with the proof that went with it.
      const bearer = await fetch(`${server.url}/api/whoami`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(bearer.status).toBe(401);
      const replay = await fetch(`${server.url}/api/whoami`, {
        headers: { authorization: `DPoP ${token}`, dpop: api.headers.get('dpop')! },
      });
      expect(replay.status).toBe(401);

      // The 2 s token is refreshed by the timer, with a proof from the same key.
      await next(client, 'session:refreshed');
      expect(seen.filter((r) => r.url.endsWith('/api/token/refresh')).length).toBeGreaterThan(0);
      expect((await client.whoami()).user.email).toBe('c@example.com');
      await client.logout();
    } finally {
      client.close();
    }
  });

  it('a refresh token taken out of the client is refused with a proof from another key', async () => {
    let refreshToken: string | undefined;
    const client = dpopClient(async (input, init) => {
      const res = await fetch(new Request(input, init));
      const body = (await res
        .clone()
        .json()
        .catch(() => ({}))) as { refresh_token?: string };
      refreshToken ??= body.refresh_token;
      return res;
    });
    try {
      await client.login('c@example.com', PASSWORD);
      const thief = createDPoPSigner(memoryKeyStore());
      const stolen = await thief.send(
        new Request(`${server.url}/api/token/refresh`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ refresh_token: refreshToken }),
        }),
        undefined,
        (r) => fetch(r),
      );
      expect(stolen.status).toBe(400);
      expect(((await stolen.json()) as { code: string }).code).toBe('ERR_DPOP_KEY_MISMATCH');
    } finally {
      client.close();
    }
  });
});
