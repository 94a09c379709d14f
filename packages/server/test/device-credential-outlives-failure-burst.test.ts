/**
 * A `failure_burst` answered with `revoke` (`JOT_THEFT_RESPONSES`) ends the account's sessions and tokens, but not
 * its device credentials (services/login-devices.ts): the burst is others' failed sign-ins, and the owner's device
 * credential is what lets the owner past the account-wide lock those failures set. Regression: the burst moved the
 * one cut-off device credentials died at, so an attacker's guesses ended the owner's credential and then held the
 * owner by the lock. The owner's own clean-ups still end every credential issued before them — also after a burst
 * left the device cut-off behind the account's. On SQLite and PostgreSQL; and migration 0015 on both.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { Schema } from '../src/store/schema.js';
import {
  PASSWORD,
  deviceCookieOf,
  deviceOf,
  deviceTokenOf,
  expectLocked,
  lockAccount,
  signIn,
} from './support/devices.js';
import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { migrateTo, migrationBackends } from './support/migrations.js';
import { serverBackends } from './support/store-backends.js';

const NEW_PASSWORD = 'another good passphrase';

const backends = await serverBackends('device credentials outlive a failure burst');

describe.each(backends)('device credentials and failure_burst=revoke on $name', (backend) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-burst-devices-'));
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(
      {
        // Two failures lock the account (support/devices.ts) and are a burst.
        loginLockout: '2/30s',
        loginLockoutMax: '2m',
        failureBurst: '2/10m',
        theftResponses: 'failure_burst=revoke',
        trustProxy: true,
        loginDeviceTtl: '30d',
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

  const sessionOf = (accessToken: string): string =>
    (JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()) as { sid: string }).sid;

  it('an attacker’s burst ends the owner’s sessions; the owner’s device credential still signs in past the lock', async () => {
    const email = `burst-owner-${backend.name}@example.com`;
    const owner = await signUp(server, email, PASSWORD);
    const browser = await deviceOf(server, email);
    const app = await deviceTokenOf(server, email);

    await lockAccount(server, email);
    const events = await server.app.jot.store.listSecurityEvents({
      limit: 10,
      type: 'failure_burst',
      userId: owner.userId,
    });
    expect(events.map((e) => e.detail)).toEqual([{ failures: 2, response: 'revoke' }]);
    // The burst's revoke happened: the owner's session is over, its access token refused.
    const session = await server.app.jot.store.getSession(sessionOf(owner.access_token));
    expect(session?.revokedReason).toBe('failure_burst');
    expect((await server.request('GET', '/api/whoami', { token: owner.access_token })).status).toBe(401);

    // Everyone without a credential is held by the lock the attacker set; the owner's browser and app are not.
    expectLocked(await signIn(server, email, PASSWORD));
    const res = await signIn(server, email, PASSWORD, { cookie: browser });
    expect(res.status, res.text).toBe(200);
    // Still the same credential (in its first half): the burst did not make it a new device.
    expect(deviceCookieOf(res)).toBe(browser);
    const fromApp = await signIn(server, email, PASSWORD, {
      body: { delivery: 'bearer', device_token: app },
    });
    expect(fromApp.status, fromApp.text).toBe(200);
    expect(fromApp.body.device_token).toBe(app);
  });

  it('after a burst, the owner’s sign-out everywhere still ends every credential issued before it', async () => {
    const email = `burst-then-logout-all-${backend.name}@example.com`;
    await signUp(server, email, PASSWORD);
    const thief = await deviceOf(server, email);
    const ownersBrowser = await deviceOf(server, email);
    await lockAccount(server, email);
    // The owner gets in on their credential and signs out everywhere.
    const owner = await signIn(server, email, PASSWORD, {
      cookie: ownersBrowser,
      body: { delivery: 'bearer' },
    });
    expect(owner.status, owner.text).toBe(200);
    const out = await server.request('POST', '/api/logout-all', { token: owner.body.access_token as string });
    expect(out.status).toBe(204);
    // The account is still locked: neither credential from before the sign-out passes it any more.
    expectLocked(await signIn(server, email, PASSWORD, { cookie: thief }));
    expectLocked(await signIn(server, email, PASSWORD, { cookie: ownersBrowser }));
  });

  it('after a burst, the owner’s password change ends the others’ credentials; the changing client gets a fresh one', async () => {
    const email = `burst-then-password-change-${backend.name}@example.com`;
    await signUp(server, email, PASSWORD);
    const thief = await deviceOf(server, email);
    const ownersBrowser = await deviceOf(server, email);
    await lockAccount(server, email);
    const owner = await signIn(server, email, PASSWORD, {
      cookie: ownersBrowser,
      body: { delivery: 'bearer' },
    });
    expect(owner.status, owner.text).toBe(200);
    const changed = await server.request('POST', '/api/password', {
      token: owner.body.access_token as string,
      headers: { cookie: ownersBrowser },
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });
    expect(changed.status, changed.text).toBe(200);
    const fresh = deviceCookieOf(changed)!;
    expect(fresh).not.toBe(ownersBrowser);
    expectLocked(await signIn(server, email, NEW_PASSWORD, { cookie: thief }));
    expectLocked(await signIn(server, email, NEW_PASSWORD, { cookie: ownersBrowser }));
    expect((await signIn(server, email, NEW_PASSWORD, { cookie: fresh })).status).toBe(200);
  });
});

// ---- Migration 0015 on a database holding accounts from before it ------------------------------------------

const T0 = Date.UTC(2033, 5, 1);
const migrations = await migrationBackends('migration 0015', T0);

describe.each(migrations)('migration 0015 (device cut-off): $dialect', (backend) => {
  it('an account from before it has its cut-off as the device cut-off; down drops the column', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const user = await store.createUser({ email: `before-0015@example.com`, passwordHash: 'h' });
      const down = await migrateTo(db, backend, '0014_client_introspection');
      expect(down.error).toBeUndefined();
      // (Later migrations go down first; 0015 last.)
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0015_device_cut_off');
      // What the release before left: a cut-off (a password reset, say) and no column of the devices' own.
      await db
        .updateTable('users')
        .set({ tokens_valid_after: T0 - 5000 })
        .where('id', '=', user.id)
        .execute();

      // The next open applies 0015, as an upgrade does.
      await (await backend.open()).close();
      expect(await store.getUserById(user.id)).toMatchObject({
        tokensValidAfter: T0 - 5000,
        devicesValidAfter: T0 - 5000,
      });
      // A burst's cut-off keeps that; the owner's next clean-up moves it.
      expect(await store.cutOffUser(user.id, T0, { keepDevices: true })).toMatchObject({
        tokensValidAfter: T0,
        devicesValidAfter: T0 - 5000,
      });
      expect(await store.cutOffUser(user.id, T0 + 1000)).toMatchObject({
        tokensValidAfter: T0 + 1000,
        devicesValidAfter: T0 + 1000,
      });
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
