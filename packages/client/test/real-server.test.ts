/**
 * `@jot/client` against the real `@jot/server` over HTTP (not the fake): sign-in, whoami, the refresh-and-retry of
 * a refused token, step-up, the server's codes passed through, sign-out, and an unreachable server. Bearer mode:
 * Node's fetch keeps no cookies, and the browser modes are driven in real Chromium by the web UI's tests.
 */
import { createServer } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createClient, JotClientError, type JotClient } from '../src/index.js';

let server: TestServer;
let client: JotClient;
const email = 'client@example.com';
const password = 'correct horse battery';

beforeAll(async () => {
  server = await startServer();
  await signUp(server, email, password);
  client = createClient({ baseUrl: server.url, mode: 'bearer', locks: null, broadcast: false });
});
afterAll(async () => {
  client.close();
  await server.close();
});

async function failure(promise: Promise<unknown>): Promise<JotClientError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JotClientError);
  return err as JotClientError;
}

describe('@jot/client against the real server', () => {
  it("passes the server's code through for wrong credentials", async () => {
    const err = await failure(client.login(email, 'not the password'));
    expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 401, error: 'invalid_grant' });
  });

  it('signs in and reads whoami', async () => {
    await client.login(email, password);
    const me = await client.whoami();
    expect(me.user.email).toBe(email);
    expect(me.claims.sub).toBe(me.user.id);
  });

  it('refreshes and retries once when the server refuses the access token', async () => {
    const before = await client.whoami();
    const { jti, exp } = before.claims as { jti: string; exp: number };
    await server.app.jot.revocations.revokeToken(jti, exp);
    const res = await client.fetch('/api/whoami');
    expect(res.status).toBe(200);
    const after = (await res.json()) as { claims: { jti: string; sid: string } };
    expect(after.claims.jti).not.toBe(jti);
    expect(after.claims.sid).toBe(before.claims.sid);
  });

  it('re-authenticates (step-up) and reports a wrong password with the server code', async () => {
    const err = await failure(client.reauthenticate('not the password'));
    expect(err).toMatchObject({ code: 'ERR_INVALID_CREDENTIALS', status: 403 });
    const before = (await client.whoami()).claims.auth_time as number;
    await client.reauthenticate(password);
    expect((await client.whoami()).claims.auth_time).toBeGreaterThanOrEqual(before);
  });

  it('signs out: the server ends the session and the client sends no token any more', async () => {
    const sid = (await client.whoami()).claims.sid as string;
    await client.logout();
    expect((await server.app.jot.store.getSession(sid))?.revokedAt).not.toBeNull();
    const err = await failure(client.whoami());
    expect(err).toMatchObject({ code: 'ERR_AUTH_REQUIRED', status: 401 });
  });

  it('reports an unreachable server as ERR_CLIENT_NETWORK', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    const offline = createClient({ baseUrl: `http://127.0.0.1:${port}`, mode: 'bearer', locks: null });
    try {
      const err = await failure(offline.login(email, password));
      expect(err).toMatchObject({ code: 'ERR_CLIENT_NETWORK', status: 0 });
    } finally {
      offline.close();
    }
  });
});
