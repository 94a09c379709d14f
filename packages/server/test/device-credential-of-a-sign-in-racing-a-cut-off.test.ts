/**
 * A sign-in racing a cut-off: the owner signs out everywhere right after the sign-in's re-read of the account found
 * its credentials unchanged (a store hook opens the window deterministically), and the clock then moves on a second
 * before the sign-in gives its device credential. Regression: the credential was stamped when minted, in a later
 * second than the cut-off, so it outlived the clean-up that ended the sign-in's session. It is stamped with the
 * sign-in's `checkedAt` now (services/sessions/start.ts), taken before that re-read: at or before the cut-off, so
 * it dies with it. On SQLite and PostgreSQL.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PASSWORD, expectLocked, lockAccount, signIn } from './support/devices.js';
import { hookStore, type HookedStore } from './support/hooked-store.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { serverBackends } from './support/store-backends.js';

const backends = await serverBackends('device credential of a sign-in racing a cut-off');

describe.each(backends)('a sign-in racing the owner’s sign-out everywhere on $name', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-device-race-'));
  let server: TestServer;
  let hooked: HookedStore;
  // The server's clock: real time, moved on by the test.
  let shift = 0;

  beforeAll(async () => {
    hooked = hookStore(await backend.open(dataDir));
    server = await startServer(
      { loginLockout: '2/30s', loginLockoutMax: '2m', trustProxy: true, loginDeviceTtl: '30d' },
      { dataDir, store: hooked.store, clock: () => Date.now() + shift },
    );
  });
  afterAll(async () => {
    await server.close({ keepData: true });
    await hooked.store.close();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('the device credential it gives is dead at that cut-off, though minted a second after it', async () => {
    const email = `racing-sign-in-${backend.name}@example.com`;
    const owner = await signUp(server, email, PASSWORD);
    const raced = hooked.once(
      'getUserForSession',
      async (call) => {
        const read = await call();
        const out = await server.request('POST', '/api/logout-all', { token: owner.access_token });
        expect(out.status).toBe(204);
        shift += 1500;
        return read;
      },
      ([userId]) => userId === owner.userId,
    );
    const res = await signIn(server, email, PASSWORD, { body: { delivery: 'bearer' } });
    await raced;
    expect(res.status, res.text).toBe(200);
    const token = res.body.device_token as string;
    expect(token).toEqual(expect.any(String));
    // Its session was ended by the cut-off, and its credential does not pass the lock.
    expect(
      (await server.request('GET', '/api/whoami', { token: res.body.access_token as string })).status,
    ).toBe(401);
    await lockAccount(server, email);
    expectLocked(await signIn(server, email, PASSWORD, { body: { device_token: token } }));
  });
});
