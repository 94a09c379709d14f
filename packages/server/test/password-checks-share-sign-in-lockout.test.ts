/**
 * The signed-in password checks — `POST /api/reauth` (step-up) and `POST /api/password` (change) — count on the
 * account's sign-in lock (`JOT_LOGIN_LOCKOUT`) as sign-ins do: each check is counted before the password is
 * evaluated, a locked account refuses them with 429 `ERR_LOGIN_LOCKED`, and their failures lock sign-in too. So a
 * stolen access token guesses the password no faster than a sign-in could (the per-user route limit,
 * `JOT_RATE_LIMIT_AUTH`, is set out of the way here). A live device credential of the account is judged by its own
 * count, as at sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PASSWORD, deviceOf, expectLocked, lockAccount, signIn } from './support/devices.js';
import { signUp, type TestResponse, type TestServer } from './support/jot-server.js';
import {
  BUDGET,
  NEW_PASSWORD,
  expectWrong,
  newEmail,
  passwordCheck,
  startLockoutServer,
  type PasswordCheckPath,
} from './support/password-checks.js';
import { gatePasswordChecks } from './support/password-gate.js';

let server: TestServer;
beforeAll(async () => {
  server = await startLockoutServer();
});
afterAll(async () => {
  await server.close();
});

type Path = PasswordCheckPath;

/** One password check on `path` with the access token (and a cookie, when given). */
const check = (path: Path, token: string, password: string, cookie?: string): Promise<TestResponse> =>
  passwordCheck(server, path, token, password, cookie);

describe('reauth and password change count on the account’s sign-in lock', () => {
  for (const path of ['/api/reauth', '/api/password'] as const) {
    it(`${path}: wrong passwords lock the account — the right one is then refused there, and at sign-in`, async () => {
      const email = newEmail(`guess${path.slice(4)}`);
      const { access_token: token } = await signUp(server, email, PASSWORD);
      for (let i = 0; i < BUDGET; i++) expectWrong(await check(path, token, `wrong guess ${i}`));
      expectLocked(await check(path, token, PASSWORD));
      expectLocked(await check('/api/reauth', token, PASSWORD));
      expectLocked(await signIn(server, email, PASSWORD));
    });

    it(`${path}: an account locked by failed sign-ins refuses it, even with the right password`, async () => {
      const email = newEmail(`locked${path.slice(4)}`);
      const { access_token: token } = await signUp(server, email, PASSWORD);
      await lockAccount(server, email);
      expectLocked(await check(path, token, PASSWORD));
      // Nothing changed: the password is still the old one once the lock is over (still locked now).
      expectLocked(await signIn(server, email, NEW_PASSWORD));
    });

    it(`${path}: a burst of wrong passwords gets only the budget checked, the rest 429 ERR_LOGIN_LOCKED`, async () => {
      const email = newEmail(`burst${path.slice(4)}`);
      const { access_token: token } = await signUp(server, email, PASSWORD);
      const attempts = 30;
      const gate = gatePasswordChecks([server], attempts);
      try {
        const answers = await Promise.all(
          Array.from({ length: attempts }, (_, i) => gate.send(() => check(path, token, `wrong guess ${i}`))),
        );
        const statuses = answers.map((res) => res.status);
        expect(gate.checked, statuses.join(',')).toBe(BUDGET);
        expect(statuses.filter((status) => status === 403)).toHaveLength(BUDGET);
        for (const res of answers.filter((r) => r.status !== 403)) expectLocked(res);
      } finally {
        gate.restore();
      }
      expectLocked(await signIn(server, email, PASSWORD));
    });
  }

  it('mixed: a wrong sign-in and a wrong reauth together spend the budget', async () => {
    const email = newEmail('mixed');
    const { access_token: token } = await signUp(server, email, PASSWORD);
    expect((await signIn(server, email, 'wrong at sign-in')).status).toBe(401);
    expectWrong(await check('/api/reauth', token, 'wrong at reauth'));
    expectLocked(await signIn(server, email, PASSWORD));
    expectLocked(await check('/api/password', token, PASSWORD));
  });

  it('a right password at reauth clears the count, as a successful sign-in does', async () => {
    const email = newEmail('clears');
    const { access_token: token } = await signUp(server, email, PASSWORD);
    expectWrong(await check('/api/reauth', token, 'a slip'));
    const ok = await check('/api/reauth', token, PASSWORD);
    expect(ok.status, ok.text).toBe(200);
    // Without the clearing, this failure would be the second and lock the account.
    expect((await signIn(server, email, 'another slip')).status).toBe(401);
    expect((await signIn(server, email, PASSWORD)).status).toBe(200);
  });

  it('the owner’s browser, with the device credential of an earlier sign-in, still changes the password while others keep the account locked', async () => {
    const email = newEmail('owner-device');
    await signUp(server, email, PASSWORD);
    const device = await deviceOf(server, email);
    const signedIn = await signIn(server, email, PASSWORD, { cookie: device });
    expect(signedIn.status).toBe(200);
    const token = signedIn.body.access_token as string;
    await lockAccount(server, email);
    // Without the credential, refused; with it, judged by the device's own count.
    expectLocked(await check('/api/reauth', token, PASSWORD));
    expect((await check('/api/reauth', token, PASSWORD, device)).status).toBe(200);
    // Its own failures lock the credential for these checks as at sign-in.
    for (let i = 0; i < BUDGET; i++) expectWrong(await check('/api/reauth', token, `slip ${i}`, device));
    expectLocked(await check('/api/password', token, PASSWORD, device));
    expectLocked(await signIn(server, email, PASSWORD, { cookie: device }));
  });
});
