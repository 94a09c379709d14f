/** Delivery modes of `@jot/client`: what each sends, what it keeps, and what it refuses. */
import { afterEach, describe, expect, it, vi } from 'vitest';

import { createClient, JotClientError, type ClientOptions, type JotClient } from '../src/index.js';
import { fakeServer } from '../../../test-support/session-api.js';

const BASE = 'http://jot.test';
const clients: JotClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});
function make(options: Parameters<typeof createClient>[0]): JotClient {
  const client = createClient({ locks: null, broadcast: false, ...options });
  clients.push(client);
  return client;
}

describe('options', () => {
  it('throws a TypeError for a bad mode or a missing baseUrl outside a browser', () => {
    expect(() => createClient({ mode: 'local' as 'cookie' })).toThrow(TypeError);
    expect(() => createClient({ mode: 'bearer' })).toThrow(/baseUrl is required/);
    expect(() => createClient({ mode: 'bearer', baseUrl: 'ftp://x' })).toThrow(TypeError);
  });

  it.each([-1, Number.NaN, Number.POSITIVE_INFINITY, '5 parsecs', '', 'soon'])(
    'refuses refreshMargin %p with a TypeError naming the option',
    (refreshMargin) => {
      expect(() => createClient({ mode: 'bearer', baseUrl: BASE, refreshMargin })).toThrow(
        /createClient: "refreshMargin": invalid duration/,
      );
    },
  );

  it('refuses the old refreshMarginSeconds, saying the new name', () => {
    const old = { mode: 'bearer', baseUrl: BASE, refreshMarginSeconds: 30 } as unknown as ClientOptions;
    expect(() => createClient(old)).toThrow(
      new TypeError(
        'createClient: "refreshMarginSeconds" was renamed "refreshMargin" (a number of seconds or a string such as "5s")',
      ),
    );
  });
});

describe('bearer mode', () => {
  it('sends the access token to the server and never to another origin', async () => {
    const server = fakeServer();
    const seen: (string | null)[] = [];
    const client = make({
      baseUrl: BASE,
      mode: 'bearer',
      fetch: (input, init) => {
        const req = new Request(input, init);
        if (new URL(req.url).origin !== BASE) {
          seen.push(req.headers.get('authorization'));
          return Promise.resolve(new Response('{}'));
        }
        return server.fetch(input, init);
      },
    });
    await client.login('a@b.c', 'pw');
    await client.fetch('/api/data');
    await client.fetch('https://elsewhere.example/api/data');
    await client.fetch(`${BASE}.evil.example/api/data`);
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${server.accessTokens[0]}`);
    expect(seen).toEqual([null, null]);
  });

  it('reports a wrong password as the server coded it', async () => {
    const client = make({ baseUrl: BASE, mode: 'bearer', fetch: fakeServer().fetch });
    const err = await client.login('a@b.c', 'nope').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JotClientError);
    expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 401 });
  });

  it('works with the global fetch (Node)', async () => {
    const server = fakeServer();
    vi.stubGlobal('fetch', server.fetch);
    try {
      const client = make({ baseUrl: BASE, mode: 'bearer' });
      await client.login('a@b.c', 'pw');
      expect((await client.whoami()).user.id).toBe('u1');
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

describe('cookie mode', () => {
  it('asks for cookie delivery, holds no token, and sends the CSRF header only on unsafe methods', async () => {
    const server = fakeServer();
    const sent: Request[] = [];
    const client = make({
      baseUrl: BASE,
      mode: 'cookie',
      fetch: (input, init) => {
        const req = new Request(input, init);
        sent.push(req.clone());
        return server.fetch(req);
      },
    });
    await client.login('a@b.c', 'pw');
    expect(await sent[0]!.json()).toMatchObject({ delivery: 'cookie' });
    expect((await client.fetch('/api/data')).status).toBe(200);
    expect((await client.fetch('/api/data', { method: 'POST', body: '{}' })).status).toBe(200);
    expect(sent[1]!.headers.get('x-csrf-token')).toBeNull();
    expect(sent[2]!.headers.get('x-csrf-token')).toBe('csrf-token-1');
    expect(sent.every((r) => r.headers.get('authorization') === null)).toBe(true);
  });

  it('refuses a token in the body (a server that ignored delivery)', async () => {
    const server = fakeServer();
    const client = make({
      baseUrl: BASE,
      mode: 'cookie',
      fetch: async (input, init) => {
        const req = new Request(input, init);
        const body = JSON.stringify({ ...(await req.json()), delivery: 'bearer' });
        return server.fetch(req.url, { method: req.method, headers: req.headers, body });
      },
    });
    await expect(client.login('a@b.c', 'pw')).rejects.toMatchObject({ code: 'ERR_CLIENT_DELIVERY_MISMATCH' });
    expect(client.signedIn).toBe(false);
  });

  it('resumes after a reload from the cookies alone, fetching the CSRF token to refresh', async () => {
    const server = fakeServer();
    await make({ baseUrl: BASE, mode: 'cookie', fetch: server.fetch }).login('a@b.c', 'pw');
    server.revokeAccessTokens(); // the access cookie is dead; the refresh cookie is not
    const reloaded = make({ baseUrl: BASE, mode: 'cookie', fetch: server.fetch });
    expect(await reloaded.resume()).toBe(true);
    expect(server.calls.slice(-3)).toEqual([
      'GET /api/whoami',
      'GET /api/token/refresh/csrf',
      'POST /api/token/refresh',
    ]);
    expect((await reloaded.fetch('/api/data', { method: 'POST' })).status).toBe(200);
  });

  it('resume() says false when there is no session', async () => {
    const client = make({ baseUrl: BASE, mode: 'cookie', fetch: fakeServer().fetch });
    expect(await client.resume()).toBe(false);
  });
});

describe('memory mode', () => {
  it('holds the access token in memory and refreshes with the cookie and CSRF header', async () => {
    const server = fakeServer();
    const client = make({ baseUrl: BASE, mode: 'memory', fetch: server.fetch });
    await client.login('a@b.c', 'pw');
    server.revokeAccessTokens();
    expect((await client.fetch('/api/data')).status).toBe(200);
    expect(server.authHeaders.at(-1)).toBe(`Bearer ${server.accessTokens[1]}`);
    expect(server.count('POST /api/token/refresh')).toBe(1);
  });
});

describe('logout', () => {
  it('clears local state even when the server call fails', async () => {
    const server = fakeServer();
    const client = make({ baseUrl: BASE, mode: 'bearer', fetch: server.fetch });
    await client.login('a@b.c', 'pw');
    const original = server.fetch;
    client.close();
    const failing = make({
      baseUrl: BASE,
      mode: 'bearer',
      fetch: (input, init) =>
        new Request(input, init).url.endsWith('/api/logout')
          ? Promise.reject(new Error('offline'))
          : original(input, init),
    });
    await failing.login('a@b.c', 'pw');
    await expect(failing.logout()).rejects.toThrow('offline');
    expect(failing.signedIn).toBe(false);
  });
});
