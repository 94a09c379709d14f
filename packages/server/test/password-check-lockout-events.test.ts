/**
 * The signed-in password checks — `POST /api/reauth` (step-up) and `POST /api/password` (change) — record what the
 * sign-in lock did as a sign-in does (http/lock-refusal-events.ts): `login_failed` for a wrong password,
 * `account_locked` for the lock a failure sets and `rate_limited` when the lock refuses a check, each with
 * `detail.via` naming the route (`reauth`, `password_change`). Before, these checks recorded only `account_locked`,
 * with a generic `via: "password_check"`, so an admin saw no failed guesses through a stolen session at all. Sign-in's
 * own events stay as they were (no `via`), and a success leaves no throttle row behind (the count is forgotten by
 * deleting it, not by zeroing it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { accountKey } from '../src/services/login-throttle.js';
import type { SecurityEvent } from '../src/store/index.js';
import { PASSWORD, deviceOf, expectLocked, freshAddress, signIn } from './support/devices.js';
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

let server: TestServer;
beforeAll(async () => {
  server = await startLockoutServer();
});
afterAll(async () => {
  await server.close();
});

const VIA = { '/api/reauth': 'reauth', '/api/password': 'password_change' } as const;

type Path = PasswordCheckPath;

/** One password check on `path` with the access token (and a cookie, when given). */
const check = (path: Path, token: string, password: string, cookie?: string): Promise<TestResponse> =>
  passwordCheck(server, path, token, password, cookie);

/** The user's events of `type`, oldest first. */
async function eventsOf(userId: string, type: string): Promise<SecurityEvent[]> {
  return (await server.app.jot.store.listSecurityEvents({ limit: 100, userId, type })).reverse();
}

/** The session id an access token names. */
function sidOf(token: string): string {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()).sid as string;
}

const throttleRow = (email: string) => server.app.jot.store.getLoginThrottle(accountKey(email));

describe('password checks outside sign-in record the sign-in lock’s events, with via', () => {
  for (const path of ['/api/reauth', '/api/password'] as const) {
    const via = VIA[path];

    it(`${path}: wrong passwords are login_failed (via ${via}), the lock they set account_locked, its refusal rate_limited`, async () => {
      const email = newEmail(`events${path.slice(4)}`);
      const { access_token: token, userId } = await signUp(server, email, PASSWORD);
      const who = { userId, sessionId: sidOf(token), ip: '127.0.0.1' };
      const guesses = Array.from({ length: BUDGET }, (_, i) => `wrong guess ${i} for ${via}`);
      for (const guess of guesses) expectWrong(await check(path, token, guess));
      expectLocked(await check(path, token, PASSWORD));

      const failed = await eventsOf(userId, 'login_failed');
      expect(failed).toHaveLength(BUDGET);
      for (const event of failed) expect(event).toMatchObject({ ...who, detail: { via } });
      const locked = await eventsOf(userId, 'account_locked');
      expect(locked).toHaveLength(1);
      expect(locked[0]).toMatchObject({ ...who, detail: { seconds: 30, via } });
      expect(locked[0]!.detail).not.toHaveProperty('device');
      const refused = await eventsOf(userId, 'rate_limited');
      expect(refused).toHaveLength(1);
      expect(refused[0]).toMatchObject({ ...who, detail: { limit: 'login_account', via } });

      // Nothing names the route generically any more, and no event holds a password.
      const all = await server.app.jot.store.listSecurityEvents({ limit: 100, userId });
      const text = JSON.stringify(all);
      expect(text).not.toContain('password_check');
      for (const secret of [...guesses, PASSWORD, NEW_PASSWORD]) expect(text).not.toContain(secret);
    });

    it(`${path}: a right password after a slip deletes the account's throttle row`, async () => {
      const email = newEmail(`clears${path.slice(4)}`);
      const { access_token: token } = await signUp(server, email, PASSWORD);
      expectWrong(await check(path, token, 'a slip'));
      expect(await throttleRow(email)).toMatchObject({ failures: 1 });
      const ok = await check(path, token, PASSWORD);
      expect(ok.status, ok.text).toBe(200);
      expect(await throttleRow(email)).toBeUndefined();
    });
  }

  it('a device credential’s lock set at /api/reauth is account_locked with device: true and via reauth', async () => {
    const email = newEmail('device');
    const { userId } = await signUp(server, email, PASSWORD);
    const device = await deviceOf(server, email);
    const signedIn = await signIn(server, email, PASSWORD, { cookie: device });
    expect(signedIn.status, signedIn.text).toBe(200);
    const token = signedIn.body.access_token as string;
    for (let i = 0; i < BUDGET; i++) expectWrong(await check('/api/reauth', token, `slip ${i}`, device));
    expectLocked(await check('/api/reauth', token, PASSWORD, device));

    const locked = await eventsOf(userId, 'account_locked');
    // The credential's second failure locks it; counted on the account too, it locks the account as well.
    expect(
      locked.map((e) => e.detail).sort((a, b) => Number(a.device ?? false) - Number(b.device ?? false)),
    ).toEqual([
      { seconds: 30, via: 'reauth' },
      { seconds: 30, via: 'reauth', device: true },
    ]);
    const refused = await eventsOf(userId, 'rate_limited');
    expect(refused.map((e) => e.detail)).toEqual([{ limit: 'login_device', via: 'reauth' }]);
  });

  it('sign-in records the same events without via, and its success deletes the throttle row', async () => {
    const email = newEmail('sign-in');
    const { userId } = await signUp(server, email, PASSWORD);
    // A slip, then the right password: the row is gone.
    expect((await signIn(server, email, 'a slip')).status).toBe(401);
    expect(await throttleRow(email)).toMatchObject({ failures: 1 });
    expect((await signIn(server, email, PASSWORD)).status).toBe(200);
    expect(await throttleRow(email)).toBeUndefined();
    // Two wrong passwords lock; the refusal is rate_limited for the address (no user: unknown and known alike).
    for (let i = 0; i < BUDGET; i++)
      expect((await signIn(server, email, `wrong guess ${i}`)).status).toBe(401);
    const address = freshAddress();
    expectLocked(
      await server.request('POST', '/api/login', {
        headers: { 'x-forwarded-for': address },
        body: { email, password: PASSWORD },
      }),
    );

    const failed = await eventsOf(userId, 'login_failed');
    expect(failed).toHaveLength(1 + BUDGET);
    for (const event of failed) expect(event.detail).toEqual({});
    const locked = await eventsOf(userId, 'account_locked');
    expect(locked.map((e) => e.detail)).toEqual([{ seconds: 30 }]);
    const refused = (
      await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'rate_limited' })
    ).filter((e) => e.ip === address);
    expect(refused).toHaveLength(1);
    expect(refused[0]).toMatchObject({ userId: null, detail: { limit: 'login_account' } });
  });
});
