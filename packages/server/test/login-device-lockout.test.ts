/**
 * The sign-in lock and device credentials (OWASP "device cookies"): anyone who knows an address can lock the
 * account's password sign-in (`JOT_LOGIN_LOCKOUT`, across all addresses), so a browser that signed in to the account
 * before holds a device credential — an HttpOnly cookie with a token signed for that account — and an attempt
 * presenting it for THAT account is throttled on its own per-(account, device) counter instead of the account-wide
 * lock. Over HTTP, with a controlled clock, and across two instances on one database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { COOKIES } from '@jot/contract';

import { deviceKey } from '../src/services/login-devices.js';
import { totpCode } from '../src/services/totp.js';
import { clusterBackendsAvailable, startCluster, type Cluster } from './support/cluster.js';
import {
  DEVICE_COOKIE as DEVICE,
  PASSWORD,
  deviceCookieOf,
  deviceOf,
  expectLocked,
  lockAccount,
  signIn,
} from './support/devices.js';
import {
  signUp,
  startServer,
  type TestResponse,
  type TestServer,
  signUpVerified,
} from './support/jot-server.js';
import { assertionResponse, newCredential, registrationResponse } from './support/soft-authenticator.js';
import { enrolTotp } from './support/totp-enrolment.js';

/** A sign-in from a fresh address, with `cookie` (a device cookie) when given. */
function login(
  server: TestServer,
  email: string,
  password: string,
  cookie?: string,
  headers: Record<string, string> = {},
): Promise<TestResponse> {
  return signIn(server, email, password, { cookie, headers });
}

describe('device credentials against the account-wide sign-in lock (one instance, controlled clock)', () => {
  let now = Date.UTC(2031, 5, 1, 9, 0, 0);
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(
      { loginLockout: '2/30s', loginLockoutMax: '2m', trustProxy: true, loginDeviceTtl: '30d' },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it('the owner with the device cookie of an earlier sign-in still signs in while an attacker keeps the account locked; without it, locked', async () => {
    const email = 'owner@example.com';
    await signUp(server, email, PASSWORD);
    const device = await deviceOf(server, email);
    await lockAccount(server, email);
    // The attacker keeps at it: one more failure per lock period.
    now += 30_000;
    expect((await login(server, email, 'another guess')).status).toBe(401);
    expectLocked(await login(server, email, PASSWORD));

    const owner = await login(server, email, PASSWORD, device);
    expect(owner.status, owner.text).toBe(200);
    expect(owner.body.access_token).toEqual(expect.any(String));
    // Without the cookie the lock holds, for the owner too.
    expectLocked(await login(server, email, PASSWORD));
    // The trusted success left the attacker's count alone: the account is still locked for untrusted attempts.
    expectLocked(await login(server, email, PASSWORD));
  });

  it('the device cookie is HttpOnly, SameSite=Strict, for the whole host, and __Host- prefixed and Secure over https', async () => {
    const email = 'cookie-shape@example.com';
    await signUp(server, email, PASSWORD);
    const plain = await login(server, email, PASSWORD);
    const line = plain.headers.getSetCookie().find((l) => l.startsWith(`${DEVICE}=`))!;
    expect(line).toMatch(/; HttpOnly/i);
    expect(line).toMatch(/; SameSite=Strict/i);
    expect(line).toMatch(/; Path=\/(;|$)/);
    expect(line).toMatch(/; Max-Age=2592000/); // JOT_LOGIN_DEVICE_TTL: 30 days
    expect(line).not.toMatch(/; Secure/i);
    const https = await login(server, email, PASSWORD, undefined, { 'x-forwarded-proto': 'https' });
    const secure = https.headers.getSetCookie().find((l) => l.startsWith(`${COOKIES.device.secure}=`));
    expect(secure).toMatch(/; Secure/i);
    expect(secure).toMatch(/; Path=\/(;|$)/);
    expect(deviceCookieOf(https)).toBeUndefined();
  });

  it('a device cookie of another account does not help, and unknown addresses answer exactly like known ones', async () => {
    const victim = 'victim@example.com';
    const attacker = 'attacker@example.com';
    await signUp(server, victim, PASSWORD);
    await signUp(server, attacker, PASSWORD);
    const attackersDevice = await deviceOf(server, attacker);
    await lockAccount(server, victim);
    const known = await login(server, victim, PASSWORD, attackersDevice);
    expectLocked(known);
    // The same for an address no account has: locked the same way, the same answer with the same cookie.
    const unknown = 'nobody-here@example.com';
    for (let i = 0; i < 2; i++) expect((await login(server, unknown, `guess ${i}`)).status).toBe(401);
    const answer = await login(server, unknown, PASSWORD, attackersDevice);
    expectLocked(answer);
    expect(answer.body).toEqual(known.body);
    expect(answer.headers.get('retry-after')).toBe(known.headers.get('retry-after'));
    // A failure presenting a foreign device cookie is counted on the account it was for, as without a cookie.
    const victim2 = 'victim2@example.com';
    await signUp(server, victim2, PASSWORD);
    for (let i = 0; i < 2; i++)
      expect((await login(server, victim2, `guess ${i}`, attackersDevice)).status).toBe(401);
    expectLocked(await login(server, victim2, PASSWORD));
    // The attacker's own device is not locked by any of it.
    expect((await login(server, attacker, PASSWORD, attackersDevice)).status).toBe(200);
  });

  it('wrong passwords from the trusted device lock that device (and count on the account), not the owner’s other devices', async () => {
    const email = 'stolen-cookie@example.com';
    await signUp(server, email, PASSWORD);
    const stolen = await deviceOf(server, email);
    const laptop = await deviceOf(server, email);
    expect(laptop).not.toBe(stolen);
    // Guessing with the stolen device cookie: two free failures, then the device is locked.
    for (let i = 0; i < 2; i++) expect((await login(server, email, `guess ${i}`, stolen)).status).toBe(401);
    const locked = await login(server, email, PASSWORD, stolen);
    expectLocked(locked);
    expect(locked.headers.get('retry-after')).toBe('30');
    // The failures counted on the account too: dropping the cookie gains the thief nothing.
    expectLocked(await login(server, email, PASSWORD));
    // The owner's other browser is another device: it signs in.
    expect((await login(server, email, PASSWORD, laptop)).status).toBe(200);
    // The device's own lock doubles as the account's does.
    now += 30_000;
    expect((await login(server, email, 'guess again', stolen)).status).toBe(401);
    const again = await login(server, email, PASSWORD, stolen);
    expectLocked(again);
    expect(again.headers.get('retry-after')).toBe('60');
    now += 60_000;
    // After the lock the right password from the device signs in and clears the device's count.
    expect((await login(server, email, PASSWORD, stolen)).status).toBe(200);
    expect((await login(server, email, 'one slip', stolen)).status).toBe(401);
    expect((await login(server, email, PASSWORD, stolen)).status).toBe(200);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'account_locked' });
    expect(events.some((e) => e.detail?.device === true)).toBe(true);
  });

  it('a device credential lasts JOT_LOGIN_DEVICE_TTL from its issue; a sign-in in its second half gives a new one', async () => {
    const email = 'expiring@example.com';
    await signUp(server, email, PASSWORD);
    const device = await deviceOf(server, email);
    // In the first half of its life a sign-in keeps it (the same cookie again).
    now += 10 * 86_400_000;
    expect(await deviceOf(server, email, device)).toBe(device);
    // In the second half, a new one with a new lifetime comes.
    now += 10 * 86_400_000;
    const renewed = await deviceOf(server, email, device);
    expect(renewed).not.toBe(device);
    // The first one expires 30 days after its issue, the new one 30 days after its own.
    now += 11 * 86_400_000;
    await lockAccount(server, email);
    expectLocked(await login(server, email, PASSWORD, device));
    expect((await login(server, email, PASSWORD, renewed)).status).toBe(200);
    now += 20 * 86_400_000;
    await lockAccount(server, email);
    expectLocked(await login(server, email, PASSWORD, renewed));
  });

  it('a browser holds the device credentials of several accounts; each works only for its own', async () => {
    const first = 'shared-1@example.com';
    const second = 'shared-2@example.com';
    await signUp(server, first, PASSWORD);
    await signUp(server, second, PASSWORD);
    const one = await deviceOf(server, first);
    const both = await deviceOf(server, second, one);
    expect(both).not.toBe(one);
    await lockAccount(server, first);
    await lockAccount(server, second);
    expect((await login(server, first, PASSWORD, both)).status).toBe(200);
    expect((await login(server, second, PASSWORD, both)).status).toBe(200);
  });

  it('keeps nothing per device but a failure count under a hash; a tampered credential or one of a deleted account is none', async () => {
    const email = 'signed@example.com';
    const user = await signUp(server, email, PASSWORD);
    const cookie = await deviceOf(server, email);
    const token = cookie.slice(`${DEVICE}=`.length);
    expect((await login(server, email, 'a slip', cookie)).status).toBe(401);
    const counted = await server.app.jot.store.getLoginThrottle(deviceKey(token));
    expect(counted).toMatchObject({ failures: 1 });
    expect(JSON.stringify(counted)).not.toContain(token);
    // One character changed in the signature: no credential.
    const last = token.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${DEVICE}=${token.slice(0, -2)}${last}${token.at(-1)}`;
    // The slip counted on the account as well: one more failure without the cookie locks it.
    expect((await login(server, email, 'wrong guess')).status).toBe(401);
    expectLocked(await login(server, email, PASSWORD));
    expectLocked(await login(server, email, PASSWORD, tampered));
    expect((await login(server, email, PASSWORD, cookie)).status).toBe(200);
    // The account goes; a new one at the same address is another account: the old credential does nothing for it.
    expect(await server.app.jot.revocations.deleteUser(user.userId)).toMatchObject({ id: user.userId });
    expect(
      (await server.request('POST', '/api/register', { body: { email, password: PASSWORD } })).status,
    ).toBe(201);
    now += 60 * 60_000; // the lock is over (the address's count stands: one more failure locks it again)
    expect((await login(server, email, 'wrong again')).status).toBe(401);
    expectLocked(await login(server, email, PASSWORD));
    expectLocked(await login(server, email, PASSWORD, cookie));
  });

  it('the second step of a two-step sign-in gives the device credential, and the password step honours it', async () => {
    const email = 'two-step@example.com';
    const user = await signUpVerified(server, email, PASSWORD);
    const { secret } = await enrolTotp(server, user.access_token, { at: now });
    now += 30_000;
    const first = await login(server, email, PASSWORD);
    expect(first.status).toBe(403);
    expect(deviceCookieOf(first), 'no device credential before the second factor').toBeUndefined();
    const second = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: first.body.mfa_token, code: totpCode(secret, now) },
    });
    expect(second.status, second.text).toBe(200);
    const device = deviceCookieOf(second)!;
    expect(device).toBeDefined();
    await lockAccount(server, email);
    const trusted = await login(server, email, PASSWORD, device);
    expect(trusted.status, trusted.text).toBe(403);
    expect(trusted.body.code).toBe('ERR_MFA_REQUIRED');
  });

  it('a passwordless passkey sign-in gives the device credential too', async () => {
    const email = 'passkey-user@example.com';
    const user = await signUpVerified(server, email, PASSWORD);
    const credential = newCredential(user.userId);
    const options = await server.request('POST', '/api/passkeys/register/options', {
      token: user.access_token,
    });
    expect(options.status, options.text).toBe(200);
    const registered = await server.request('POST', '/api/passkeys/register', {
      token: user.access_token,
      body: { credential: registrationResponse(credential, options.body, 'http://jot.test'), name: 'key' },
    });
    expect(registered.status, registered.text).toBe(201);
    await lockAccount(server, email);
    const loginOptions = await server.request('POST', '/api/passkeys/login/options');
    const passkey = await server.request('POST', '/api/passkeys/login', {
      body: { credential: assertionResponse(credential, loginOptions.body, 'http://jot.test') },
    });
    expect(passkey.status, passkey.text).toBe(200);
    const device = deviceCookieOf(passkey)!;
    expect(device).toBeDefined();
    // The account has a factor now: the password step passes the lock and asks for it.
    const trusted = await login(server, email, PASSWORD, device);
    expect(trusted.status, trusted.text).toBe(403);
    expect(trusted.body.code).toBe('ERR_MFA_REQUIRED');
    expectLocked(await login(server, email, PASSWORD));
  });
});

describe('JOT_LOGIN_DEVICE_TTL=0: device credentials off', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ loginLockout: '2/30s', trustProxy: true, loginDeviceTtl: '0' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('gives no device cookie, and one presented is ignored: the account-wide lock holds for everyone', async () => {
    const email = 'no-devices@example.com';
    const { userId } = await signUp(server, email, PASSWORD);
    const res = await login(server, email, PASSWORD);
    expect(res.status).toBe(200);
    expect(deviceCookieOf(res)).toBeUndefined();
    // A credential given while they were on (say, before the setting changed) counts for nothing now.
    const { token } = server.app.jot.loginDevices.issue({ id: userId, devicesValidAfter: 0 }, []);
    await lockAccount(server, email);
    expectLocked(await login(server, email, PASSWORD, `${DEVICE}=${token}`));
  });
});

const clusterAvailable = await clusterBackendsAvailable('device credentials across instances');

describe.runIf(clusterAvailable)(
  'device credentials across two instances (one PostgreSQL, one Redis)',
  () => {
    let cluster: Cluster;
    beforeAll(async () => {
      cluster = await startCluster({ loginLockout: '2/30s', trustProxy: true });
    });
    afterAll(async () => {
      await cluster?.close();
    });

    it('the lock, the device credential and the device’s own count are one state for both instances', async () => {
      const [a, b] = cluster.instances as [TestServer, TestServer];
      const email = `across-${Date.now()}@example.com`;
      const reg = await a.request('POST', '/api/register', { body: { email, password: PASSWORD } });
      expect(reg.status).toBe(201);
      const device = await deviceOf(a, email);
      // The attacker's failures on both instances lock the account on both.
      expect((await login(a, email, 'guess one')).status).toBe(401);
      expect((await login(b, email, 'guess two')).status).toBe(401);
      expectLocked(await login(a, email, PASSWORD));
      expectLocked(await login(b, email, PASSWORD));
      // The device credential from instance a works on instance b.
      expect((await login(b, email, PASSWORD, device)).status).toBe(200);
      // Guesses with the device cookie on both instances spend one device budget.
      expect((await login(a, email, 'guess three', device)).status).toBe(401);
      expect((await login(b, email, 'guess four', device)).status).toBe(401);
      expectLocked(await login(a, email, PASSWORD, device));
      expectLocked(await login(b, email, PASSWORD, device));
    });

    it('concurrent guesses with one device cookie on both instances are all counted, and at most the budget checked', async () => {
      const [a, b] = cluster.instances as [TestServer, TestServer];
      const email = `racing-${Date.now()}@example.com`;
      expect((await a.request('POST', '/api/register', { body: { email, password: PASSWORD } })).status).toBe(
        201,
      );
      const device = await deviceOf(b, email);
      const guesses = await Promise.all(
        Array.from({ length: 6 }, (_, i) => login(i % 2 === 0 ? a : b, email, `guess ${i}`, device)),
      );
      // Each is refused (401 while free, 429 once locked) and none is lost: the device is locked afterwards. Each is
      // counted before its check, so no more than the device's 2 free failures are checked (401).
      for (const res of guesses) expect([401, 429]).toContain(res.status);
      expect(guesses.filter((res) => res.status === 401).length).toBeLessThanOrEqual(2);
      expectLocked(await login(a, email, PASSWORD, device));
      expectLocked(await login(b, email, PASSWORD, device));
    });
  },
);
