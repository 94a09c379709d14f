/**
 * The new-device mail (services/theft-signals.ts) keys on browser family and network (`known_devices`). Regression: no
 * cut-off cleared them, so a thief's device stayed "known" after the owner's clean-up, and the thief's next sign-in
 * told the owner nothing. Now the owner's clean-ups (sign out everywhere, a password change; the same device cut-off
 * as device credentials') make the devices known before them new again: the next sign-in from the thief's device is
 * recorded and mailed once more. A `failure_burst` answered with `revoke` (others' failures) forgets nothing. On
 * SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'another good passphrase';
const THIEF = { 'x-forwarded-for': '198.51.100.20', 'user-agent': 'curl/8.5.0' };
const OWNER = {
  'x-forwarded-for': '203.0.113.5',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
};

const backends = await serverBackends('new-device mail after the owner’s clean-up');

describe.each(backends)('the new-device mail after the owner’s clean-up on $name', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-new-device-'));
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(
      {
        trustProxy: true,
        failureBurst: '2/10m',
        theftResponses: 'failure_burst=revoke',
        loginLockout: '100/1s',
      },
      { dataDir, store: await backend.open(dataDir) },
    );
  });
  afterAll(async () => {
    await server.close({ keepData: true });
    await server.app.jot.store.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const signIn = (email: string, headers: Record<string, string>, password = PASSWORD) =>
    server.request('POST', '/api/login', { body: { email, password }, headers });

  /** The networks of the `new_device_sign_in` events of the account, oldest first. */
  async function told(userId: string): Promise<unknown[]> {
    const events = await server.app.jot.store.listSecurityEvents({
      limit: 50,
      type: 'new_device_sign_in',
      userId,
    });
    return events.map((e) => (e.detail as { network: string }).network).reverse();
  }

  /**
   * An account whose owner signed in (from the test client, then their browser: told of, the first excepted) and a
   * thief from another device (told of once).
   */
  async function robbed(email: string): Promise<{ userId: string; owner: string }> {
    const { userId } = await signUp(server, email, PASSWORD);
    const owner = await signIn(email, OWNER);
    expect(owner.status, owner.text).toBe(200);
    expect((await signIn(email, THIEF)).status).toBe(200);
    expect((await signIn(email, THIEF)).status).toBe(200);
    expect(await told(userId)).toEqual(['203.0.113.0/24', '198.51.100.0/24']);
    return { userId, owner: owner.body.access_token as string };
  }

  it('after the owner signs out everywhere, the thief’s next sign-in is told of again (once)', async () => {
    const email = `logout-all-${backend.name}@example.com`;
    const { userId, owner } = await robbed(email);
    expect((await server.request('POST', '/api/logout-all', { token: owner })).status).toBe(204);
    expect((await signIn(email, THIEF)).status).toBe(200);
    expect((await signIn(email, THIEF)).status).toBe(200);
    expect(await told(userId)).toEqual(['203.0.113.0/24', '198.51.100.0/24', '198.51.100.0/24']);
    // And mailed: the owner's browser, then the thief's device twice.
    const outbox = await server.app.jot.store.listOutbox({ limit: 500 });
    expect(outbox.filter((m) => m.template === 'new-device' && m.userId === userId)).toHaveLength(3);
  });

  it('after the owner changes the password, the thief’s device is new again even with the new password', async () => {
    const email = `password-change-${backend.name}@example.com`;
    const { userId, owner } = await robbed(email);
    const changed = await server.request('POST', '/api/password', {
      token: owner,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(changed.status, changed.text).toBe(200);
    expect((await signIn(email, THIEF, NEW_PASSWORD)).status).toBe(200);
    expect(await told(userId)).toEqual(['203.0.113.0/24', '198.51.100.0/24', '198.51.100.0/24']);
  });

  it('a failure burst answered with revoke forgets no device: the thief’s is still known', async () => {
    const email = `burst-${backend.name}@example.com`;
    const { userId } = await robbed(email);
    for (let i = 0; i < 2; i++) {
      expect((await signIn(email, { 'x-forwarded-for': `192.0.2.${i + 1}` }, 'a wrong guess')).status).toBe(
        401,
      );
    }
    const bursts = await server.app.jot.store.listSecurityEvents({ limit: 5, type: 'failure_burst', userId });
    expect(bursts).toHaveLength(1);
    expect((await signIn(email, THIEF)).status).toBe(200);
    expect(await told(userId)).toEqual(['203.0.113.0/24', '198.51.100.0/24']);
  });
});
