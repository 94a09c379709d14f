/**
 * What `@jot/client` raises when an answer is not the JSON it expects, or never comes: a `JotClientError` with a
 * client code, as docs/errors.md promises — `ERR_CLIENT_NETWORK` (status 0) when the server could not be reached,
 * `ERR_CLIENT_BAD_RESPONSE` when a 2xx body is not JSON (a proxy's HTML page) — never fetch's raw `TypeError` or
 * `JSON.parse`'s `SyntaxError`, which an app cannot tell from its own bugs.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { ENDPOINTS } from '@jot/contract';

import { createClient, JotClientError, type FetchLike, type JotClient } from '../src/index.js';
import { fakeServer } from '../../../test-support/session-api.js';

const BASE = 'http://jot.test';
const HTML = () => new Response('<html><body>502 Bad Gateway</body></html>', { status: 200 });

const clients: JotClient[] = [];
afterEach(() => {
  for (const c of clients.splice(0)) c.close();
});

/** A bearer client over the fake session API, with `intercept` answering (or failing) chosen paths instead. */
async function signedInClient(
  intercept: (path: string) => Response | 'unreachable' | undefined,
): Promise<JotClient> {
  const server = fakeServer();
  let armed = false;
  const fetch: FetchLike = async (input, init) => {
    const path = new URL(new Request(input, init).url).pathname;
    const instead = armed ? intercept(path) : undefined;
    if (instead === 'unreachable') throw new TypeError('fetch failed');
    return instead ?? server.fetch(input, init);
  };
  const client = createClient({ mode: 'bearer', baseUrl: BASE, fetch, locks: null, broadcast: false });
  clients.push(client);
  await client.login('a@b.c', 'pw');
  armed = true;
  return client;
}

async function failure(promise: Promise<unknown>): Promise<{ name: string; code?: string; status?: number }> {
  const err: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof Error)) throw new Error('expected a failure');
  return err instanceof JotClientError
    ? { name: err.name, code: err.code, status: err.status }
    : { name: err.name };
}

describe('answers that are not JSON, and no answer', () => {
  it('json(): an unreachable server is ERR_CLIENT_NETWORK', async () => {
    const client = await signedInClient((path) => (path === ENDPOINTS.whoami ? 'unreachable' : undefined));
    expect(await failure(client.json(ENDPOINTS.whoami))).toEqual({
      name: 'JotClientError',
      code: 'ERR_CLIENT_NETWORK',
      status: 0,
    });
  });

  it('json(): a 200 whose body is not JSON is ERR_CLIENT_BAD_RESPONSE', async () => {
    const client = await signedInClient((path) => (path === ENDPOINTS.whoami ? HTML() : undefined));
    expect(await failure(client.json(ENDPOINTS.whoami))).toEqual({
      name: 'JotClientError',
      code: 'ERR_CLIENT_BAD_RESPONSE',
      status: 200,
    });
  });

  it('whoami() answered with HTML is ERR_CLIENT_BAD_RESPONSE', async () => {
    const client = await signedInClient((path) => (path === ENDPOINTS.whoami ? HTML() : undefined));
    expect(await failure(client.whoami())).toMatchObject({ code: 'ERR_CLIENT_BAD_RESPONSE' });
  });

  it('a sign-in answered with HTML is ERR_CLIENT_BAD_RESPONSE, and no session starts', async () => {
    const client = createClient({
      mode: 'bearer',
      baseUrl: BASE,
      fetch: () => Promise.resolve(HTML()),
      locks: null,
      broadcast: false,
    });
    clients.push(client);
    expect(await failure(client.login('a@b.c', 'pw'))).toMatchObject({ code: 'ERR_CLIENT_BAD_RESPONSE' });
    expect(client.signedIn).toBe(false);
  });
});
