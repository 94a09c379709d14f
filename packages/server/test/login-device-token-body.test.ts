/**
 * Device credentials for clients without a cookie jar (native apps, server-side clients): a sign-in delivered in
 * the body (`bearer`) also answers the credential as `device_token`, and a later `POST /api/login` presenting it in
 * the body is judged by it exactly as by the device cookie — so anyone who knows the address cannot keep those
 * clients out either. Over HTTP, with a controlled clock; no cookie is ever sent back here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { COOKIES } from '@jot/contract';

import { totpCode } from '../src/services/totp.js';
import {
  PASSWORD,
  deviceTokenOf,
  expectLocked,
  freshAddress,
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

/** A sign-in from a fresh address without any cookie; `extra` goes into the body (`device_token`, `delivery`). */
function login(
  server: TestServer,
  email: string,
  password: string,
  extra: Record<string, unknown> = {},
): Promise<TestResponse> {
  return signIn(server, email, password, { body: extra });
}

describe('device_token in the body, for clients without a cookie jar', () => {
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

  it('a body-delivery client presenting its device_token still signs in while others keep the account locked', async () => {
    const email = 'native-app@example.com';
    await signUp(server, email, PASSWORD);
    const token = await deviceTokenOf(server, email);
    await lockAccount(server, email);
    const owner = await login(server, email, PASSWORD, { device_token: token });
    expect(owner.status, owner.text).toBe(200);
    expect(owner.body.access_token).toEqual(expect.any(String));
    // In the first half of its life the credential is kept: the same token again.
    expect(owner.body.device_token).toBe(token);
    // Without it the lock holds, for the owner too.
    expectLocked(await login(server, email, PASSWORD));
  });

  it('the body token is the cookie token: either works where the other was given', async () => {
    const email = 'either-way@example.com';
    await signUp(server, email, PASSWORD);
    const token = await deviceTokenOf(server, email);
    await lockAccount(server, email);
    const viaCookie = await server.request('POST', '/api/login', {
      headers: { 'x-forwarded-for': freshAddress(), cookie: `${COOKIES.device.plain}=${token}` },
      body: { email, password: PASSWORD },
    });
    expect(viaCookie.status, viaCookie.text).toBe(200);
  });

  it('a token of another account, a tampered one or garbage is no credential: locked like anyone', async () => {
    const victim = 'body-victim@example.com';
    const attacker = 'body-attacker@example.com';
    await signUp(server, victim, PASSWORD);
    await signUp(server, attacker, PASSWORD);
    const attackers = await deviceTokenOf(server, attacker);
    const victims = await deviceTokenOf(server, victim);
    await lockAccount(server, victim);
    const last = victims.at(-2) === 'A' ? 'B' : 'A';
    const tampered = `${victims.slice(0, -2)}${last}${victims.at(-1)}`;
    const garbage = ['', 'garbage', '.', '...'.repeat(100), victims + victims, `${victims}=`, 'é'.repeat(54)];
    for (const presented of [attackers, tampered, ...garbage]) {
      expectLocked(await login(server, victim, PASSWORD, { device_token: presented }));
    }
    // Not a string: refused as any mistyped member is, before anything is checked.
    const typed = await login(server, victim, PASSWORD, { device_token: 42 });
    expect(typed.status).toBe(400);
    expect(typed.body.code).toBe('ERR_VALIDATION');
    // The real one still works, also among others (joined by `.`, as in the cookie).
    const joined = `${attackers}.${tampered}.${victims}`;
    expect((await login(server, victim, PASSWORD, { device_token: joined })).status).toBe(200);
  });

  it('wrong passwords presenting the token lock that token and count on the account', async () => {
    const email = 'body-stolen@example.com';
    await signUp(server, email, PASSWORD);
    const stolen = await deviceTokenOf(server, email);
    const other = await deviceTokenOf(server, email);
    for (let i = 0; i < 2; i++) {
      expect((await login(server, email, `guess ${i}`, { device_token: stolen })).status).toBe(401);
    }
    expectLocked(await login(server, email, PASSWORD, { device_token: stolen }));
    expectLocked(await login(server, email, PASSWORD));
    expect((await login(server, email, PASSWORD, { device_token: other })).status).toBe(200);
  });

  it('a cookie-delivery (or memory-delivery) sign-in keeps the credential in the cookie only, never in the body', async () => {
    const email = 'browser-only@example.com';
    await signUp(server, email, PASSWORD);
    for (const delivery of ['cookie', 'memory']) {
      const res = await login(server, email, PASSWORD, { delivery });
      expect(res.status, res.text).toBe(200);
      expect(res.body.device_token, delivery).toBeUndefined();
      expect(res.headers.getSetCookie().some((l) => l.startsWith(`${COOKIES.device.plain}=`))).toBe(true);
    }
  });

  it('the second step of a two-step sign-in answers the device_token; the password step honours it', async () => {
    const email = 'body-two-step@example.com';
    const user = await signUpVerified(server, email, PASSWORD);
    const { secret } = await enrolTotp(server, user.access_token, { at: now });
    now += 30_000;
    const first = await login(server, email, PASSWORD, { delivery: 'bearer' });
    expect(first.status).toBe(403);
    expect(first.body.device_token).toBeUndefined();
    const second = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: first.body.mfa_token, code: totpCode(secret, now) },
    });
    expect(second.status, second.text).toBe(200);
    const token = second.body.device_token as string;
    expect(token).toEqual(expect.any(String));
    await lockAccount(server, email);
    const trusted = await login(server, email, PASSWORD, { device_token: token });
    expect(trusted.status, trusted.text).toBe(403);
    expect(trusted.body.code).toBe('ERR_MFA_REQUIRED');
    // The second step presenting it keeps it (first half of its life), as it would keep the cookie.
    now += 30_000;
    const again = await server.request('POST', '/api/login/mfa', {
      body: { mfa_token: trusted.body.mfa_token, code: totpCode(secret, now), device_token: token },
    });
    expect(again.status, again.text).toBe(200);
    expect(again.body.device_token).toBe(token);
  });

  it('a passwordless passkey sign-in answers the device_token too, and keeps one presented', async () => {
    const email = 'body-passkey@example.com';
    const user = await signUpVerified(server, email, PASSWORD);
    const credential = newCredential(user.userId);
    const options = await server.request('POST', '/api/passkeys/register/options', {
      token: user.access_token,
    });
    const registered = await server.request('POST', '/api/passkeys/register', {
      token: user.access_token,
      body: { credential: registrationResponse(credential, options.body, 'http://jot.test'), name: 'key' },
    });
    expect(registered.status, registered.text).toBe(201);
    await lockAccount(server, email);
    const passkeyLogin = async (extra: Record<string, unknown> = {}): Promise<TestResponse> => {
      const loginOptions = await server.request('POST', '/api/passkeys/login/options');
      return server.request('POST', '/api/passkeys/login', {
        body: { credential: assertionResponse(credential, loginOptions.body, 'http://jot.test'), ...extra },
      });
    };
    const passkey = await passkeyLogin();
    expect(passkey.status, passkey.text).toBe(200);
    const token = passkey.body.device_token as string;
    expect(token).toEqual(expect.any(String));
    const trusted = await login(server, email, PASSWORD, { device_token: token });
    expect(trusted.status, trusted.text).toBe(403);
    expect(trusted.body.code).toBe('ERR_MFA_REQUIRED');
    const kept = await passkeyLogin({ device_token: token });
    expect(kept.status, kept.text).toBe(200);
    expect(kept.body.device_token).toBe(token);
  });
});

describe('JOT_LOGIN_DEVICE_TTL=0: no device_token', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ loginLockout: '2/30s', trustProxy: true, loginDeviceTtl: '0' });
  });
  afterAll(async () => {
    await server.close();
  });

  it('answers none, and one presented is ignored', async () => {
    const email = 'body-no-devices@example.com';
    const { userId } = await signUp(server, email, PASSWORD);
    const res = await login(server, email, PASSWORD, { delivery: 'bearer' });
    expect(res.status).toBe(200);
    expect(res.body.device_token).toBeUndefined();
    const { token } = server.app.jot.loginDevices.issue({ id: userId, devicesValidAfter: 0 }, []);
    await lockAccount(server, email);
    expectLocked(await login(server, email, PASSWORD, { device_token: token }));
  });
});
