/**
 * A device credential (services/login-devices.ts) issued before the account's cut-off (`devicesValidAfter`: a
 * password change or reset, "sign out everywhere", an admin ending the user's sessions) is no credential: a thief who
 * signed in once does not keep a "known device" past the owner's clean-up. Its sign-in attempts are throttled as
 * ones without a credential (held by the account-wide lock), and its next successful sign-in gets a new credential
 * instead of keeping the old one. A credential issued after the cut-off works as ever, and the client whose password
 * change made the cut-off (and keeps its session) gets a fresh one in the same answer.
 */
import { randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createLoginDevices, deviceKey, presentedDevice } from '../src/services/login-devices.js';
import {
  DEVICE_COOKIE,
  PASSWORD,
  deviceCookieOf,
  deviceOf,
  deviceTokenOf,
  expectLocked,
  lockAccount,
  signIn,
} from './support/devices.js';
import { signUp, startServer, type TestResponse, type TestServer } from './support/jot-server.js';

const NEW_PASSWORD = 'another good passphrase';

/** The tokens a device cookie (`name=value`) holds. */
const tokensOf = (cookie: string): string[] => cookie.slice(`${DEVICE_COOKIE}=`.length).split('.');

describe('device credentials die at the account’s cut-off (over HTTP)', () => {
  let server: TestServer;
  let admin: { access_token: string };
  beforeAll(async () => {
    server = await startServer({
      loginLockout: '2/30s',
      loginLockoutMax: '2m',
      trustProxy: true,
      loginDeviceTtl: '30d',
    });
    // The first account is the administrator.
    admin = await signUp(server, 'cut-off-admin@example.com', 'an admin passphrase');
  });
  afterAll(async () => {
    await server.close();
  });

  const changePassword = (token: string, headers: Record<string, string> = {}): Promise<TestResponse> =>
    server.request('POST', '/api/password', {
      token,
      headers,
      body: { current_password: PASSWORD, new_password: NEW_PASSWORD },
    });

  it('a password change: a device credential from before it no longer passes the account lock', async () => {
    const email = 'changed-password@example.com';
    const owner = await signUp(server, email, PASSWORD);
    const thief = await deviceOf(server, email);
    const ownersOtherBrowser = await deviceOf(server, email);
    const changed = await changePassword(owner.access_token);
    expect(changed.status, changed.text).toBe(200);
    await lockAccount(server, email);
    // Even with the new password (the lock is checked first): held like anyone without a credential.
    expectLocked(await signIn(server, email, NEW_PASSWORD, { cookie: thief }));
    expectLocked(await signIn(server, email, NEW_PASSWORD, { cookie: ownersOtherBrowser }));
    expectLocked(await signIn(server, email, NEW_PASSWORD, { body: { device_token: tokensOf(thief)[0] } }));
  });

  it('sign out everywhere: the next sign-in presenting an older credential is a new device’s — it gets a new one, and only that passes the lock', async () => {
    const email = 'signed-out-everywhere@example.com';
    const owner = await signUp(server, email, PASSWORD);
    const thief = await deviceOf(server, email);
    const [oldToken] = tokensOf(thief);
    expect((await server.request('POST', '/api/logout-all', { token: owner.access_token })).status).toBe(204);
    // A failure presenting it counts on the account only: it has no count of its own any more.
    expect((await signIn(server, email, 'a guess', { cookie: thief })).status).toBe(401);
    expect(await server.app.jot.store.getLoginThrottle(deviceKey(oldToken!))).toBeUndefined();
    // Signed in right after the cut-off: a new credential, not the old one kept (it would be, in its first half).
    const res = await signIn(server, email, PASSWORD, { cookie: thief });
    expect(res.status, res.text).toBe(200);
    const renewed = deviceCookieOf(res)!;
    expect(tokensOf(renewed)).toHaveLength(1);
    expect(tokensOf(renewed)).not.toContain(oldToken);
    await lockAccount(server, email);
    expectLocked(await signIn(server, email, PASSWORD, { cookie: thief }));
    // The credential issued after the cut-off works as any.
    expect((await signIn(server, email, PASSWORD, { cookie: renewed })).status).toBe(200);
  });

  it('an admin ending the user’s sessions does the same; a body-delivery client’s device_token too', async () => {
    const email = 'ended-by-admin@example.com';
    const { userId } = await signUp(server, email, PASSWORD);
    const thief = await deviceOf(server, email);
    const app = await deviceTokenOf(server, email);
    const ended = await server.request('DELETE', `/api/admin/users/${userId}/sessions`, {
      token: admin.access_token,
    });
    expect(ended.status, ended.text).toBe(200);
    const after = await deviceTokenOf(server, email, app);
    expect(after).not.toBe(app);
    await lockAccount(server, email);
    expectLocked(await signIn(server, email, PASSWORD, { cookie: thief }));
    expectLocked(await signIn(server, email, PASSWORD, { body: { device_token: app } }));
    expect((await signIn(server, email, PASSWORD, { body: { device_token: after } })).status).toBe(200);
  });

  it('the client whose password change made the cut-off gets a fresh credential in the answer: device_token in the body (body delivery) and the cookie', async () => {
    const email = 'changes-own-password@example.com';
    await signUp(server, email, PASSWORD);
    const other = 'shares-the-browser@example.com';
    await signUp(server, other, PASSWORD);
    const othersDevice = await deviceOf(server, other);
    // A bearer client that also has a cookie jar: its cookie holds this account's credential and another's.
    const first = await signIn(server, email, PASSWORD, {
      cookie: othersDevice,
      body: { delivery: 'bearer' },
    });
    expect(first.status, first.text).toBe(200);
    const before = first.body.device_token as string;
    const jar = deviceCookieOf(first)!;
    expect(tokensOf(jar)).toEqual([before, tokensOf(othersDevice)[0]]);

    const changed = await changePassword(first.body.access_token as string, { cookie: jar });
    expect(changed.status, changed.text).toBe(200);
    const fresh = changed.body.device_token as string;
    expect(fresh).toEqual(expect.any(String));
    expect(fresh).not.toBe(before);
    // The cookie: the fresh one first, this account's old one gone, the other account's kept.
    const cookie = deviceCookieOf(changed)!;
    expect(tokensOf(cookie)).toEqual([fresh, tokensOf(othersDevice)[0]]);
    // The answer's session goes on.
    expect(
      (await server.request('GET', '/api/whoami', { token: changed.body.access_token as string })).status,
    ).toBe(200);

    await lockAccount(server, email);
    expectLocked(await signIn(server, email, NEW_PASSWORD, { body: { device_token: before } }));
    expect((await signIn(server, email, NEW_PASSWORD, { body: { device_token: fresh } })).status).toBe(200);
    expect((await signIn(server, email, NEW_PASSWORD, { cookie })).status).toBe(200);
    // The other account's credential is untouched by this account's cut-off.
    await lockAccount(server, other);
    expect((await signIn(server, other, PASSWORD, { cookie })).status).toBe(200);
  });

  it('a browser-delivery client changing its password gets the fresh credential in the cookie only', async () => {
    const email = 'memory-delivery@example.com';
    await signUp(server, email, PASSWORD);
    const first = await signIn(server, email, PASSWORD, { body: { delivery: 'memory' } });
    expect(first.status, first.text).toBe(200);
    const device = deviceCookieOf(first)!;
    const changed = await changePassword(first.body.access_token as string, {
      cookie: device,
      'x-csrf-token': first.body.csrf_token as string,
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.device_token).toBeUndefined();
    const fresh = deviceCookieOf(changed)!;
    expect(tokensOf(fresh)).toHaveLength(1);
    expect(fresh).not.toBe(device);
    await lockAccount(server, email);
    expectLocked(await signIn(server, email, NEW_PASSWORD, { cookie: device }));
    expect((await signIn(server, email, NEW_PASSWORD, { cookie: fresh })).status).toBe(200);
  });
});

describe('the cut-off against a credential’s issue time: whole seconds, as an access token’s iat', () => {
  const second = Date.UTC(2031, 0, 1, 12, 0, 0);
  let now = second;
  const devices = createLoginDevices(new Uint8Array(32).fill(7), () => now, 30 * 86_400_000);
  const id = randomUUID();
  /** Whether `token`, presented for the account with this cut-off, is taken as its credential. */
  const honoured = (token: string, devicesValidAfter: number): boolean =>
    presentedDevice(devices, { id, devicesValidAfter }, [token], []) !== undefined;

  it('dead when issued before the cut-off or in its second; live from the next second on', () => {
    now = second + 200;
    const before = devices.issue({ id, devicesValidAfter: 0 }, []).token;
    const cutOff = second + 500;
    now = second + 600;
    const sameSecond = devices.issue({ id, devicesValidAfter: cutOff }, []).token;
    now = second + 1000;
    const nextSecond = devices.issue({ id, devicesValidAfter: cutOff }, []).token;

    expect(honoured(before, 0)).toBe(true);
    expect(honoured(before, cutOff)).toBe(false);
    // Issued after the cut-off but within its second: dead too (the safe side; sign-ins wait past that second).
    expect(honoured(sameSecond, cutOff)).toBe(false);
    expect(honoured(nextSecond, cutOff)).toBe(true);
    // An unknown address has no credential, cut-off or not.
    expect(presentedDevice(devices, undefined, [nextSecond], [])).toBeUndefined();
  });

  it('a sign-in presenting a credential from before the cut-off gets a new one that replaces it', () => {
    now = second + 2200;
    const old = devices.issue({ id, devicesValidAfter: 0 }, []).token;
    now = second + 5000;
    expect(devices.issue({ id, devicesValidAfter: 0 }, [old])).toEqual({ token: old, replaces: old });
    const issued = devices.issue({ id, devicesValidAfter: second + 4000 }, [old]);
    expect(issued.token).not.toBe(old);
    expect(issued.replaces).toBe(old);
    expect(honoured(issued.token, second + 4000)).toBe(true);
  });
});
