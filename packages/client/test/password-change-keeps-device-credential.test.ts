/**
 * A password change ends the device credentials issued before it (the server's cut-off), and its answer carries a
 * fresh `device_token` for the client that made it. A bearer client keeps that one, so its next sign-in still passes
 * the account-wide lock others can set; had it kept only the old one, that sign-in would be locked out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PASSWORD, expectLocked, lockAccount, signIn } from '../../server/test/support/devices.js';
import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { createClient, memoryDeviceTokenStore } from '../src/index.js';

const NEW_PASSWORD = 'another horse battery staple';
let server: TestServer;

beforeAll(async () => {
  server = await startServer({ loginLockout: '2/30s', trustProxy: true, loginDeviceTtl: '30d' });
});
afterAll(() => server?.close());

describe('a bearer client changing its password', () => {
  it('keeps the fresh device credential of the answer: its next sign-in passes the account lock', async () => {
    const email = 'keeps-device@example.com';
    const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
    expect(reg.status).toBe(201);
    const store = memoryDeviceTokenStore();
    // The store keeps them per server, under its base URL.
    const client = createClient({
      mode: 'bearer',
      baseUrl: server.url,
      locks: null,
      broadcast: false,
      deviceTokens: store,
    });
    try {
      await client.login(email, PASSWORD);
      const [before] = await store.load(`${server.url}/`);
      expect(before).toEqual({
        account: expect.any(String),
        user: expect.any(String),
        token: expect.any(String),
      });

      await client.changePassword(PASSWORD, NEW_PASSWORD);
      const kept = await store.load(`${server.url}/`);
      // The fresh one replaces the account's entry (the answer's access token names the account), address kept.
      expect(kept).toEqual([{ account: before!.account, user: before!.user, token: expect.any(String) }]);
      const fresh = kept[0]!.token;
      expect(fresh).not.toBe(before!.token);

      await lockAccount(server, email);
      expectLocked(await signIn(server, email, NEW_PASSWORD, { body: { device_token: before!.token } }));
      await client.login(email, NEW_PASSWORD);
      // The server kept the fresh one: still the account's one entry.
      expect(await store.load(`${server.url}/`)).toEqual([
        { account: before!.account, user: before!.user, token: fresh },
      ]);
    } finally {
      client.close();
    }
  });
});
