/**
 * Password guessing with a stolen access token (issue 9): `POST /api/reauth` and `POST /api/password` check the
 * signed-in user's password, so their limit keys on the verified user — however the `Authorization` header is
 * spelled (`Bearer` with 1…30 spaces, `bearer`, `BEARER`, a tab), whatever junk cookies come along and from however
 * many addresses — and the per-address limit applies in addition, not instead.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestResponse, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
/** Per address and route, and per verified user (one budget for both password-checking routes). */
const BUDGET = 5;

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function start(): Promise<TestServer> {
  // Trusting the proxy lets one test speak from many addresses (X-Forwarded-For), as a botnet would. The failed
  // checks also count on the account's sign-in lock (password-checks-share-sign-in-lockout.test.ts); it is set out
  // of the way here, so these tests see the route limit alone.
  server = await startServer({ rateLimitAuth: `${BUDGET}/min`, trustProxy: true, loginLockout: '100000/1s' });
  return server;
}

let nextAddress = 1;
/** A fresh client address (one request budget per address and route). */
const freshAddress = (): string => `198.51.100.${nextAddress++}`;

/** Every way of writing the same credential that a sloppy parser might key on separately. */
function spellings(token: string): Array<Record<string, string>> {
  const out: Array<Record<string, string>> = [];
  for (let spaces = 1; spaces <= 30; spaces++)
    out.push({ authorization: `Bearer${' '.repeat(spaces)}${token}` });
  out.push({ authorization: `bearer ${token}` });
  out.push({ authorization: `BEARER ${token}` });
  out.push({ authorization: `bEaReR ${token}  ` });
  out.push({ authorization: `Bearer\t${token}` });
  for (let i = 0; i < 5; i++) {
    out.push({ authorization: `Bearer ${token}`, cookie: `junk${i}=${'x'.repeat(i + 1)}; other=${i}` });
  }
  return out;
}

async function guess(
  s: TestServer,
  path: '/api/reauth' | '/api/password',
  headers: Record<string, string>,
  password: string,
): Promise<TestResponse> {
  const body =
    path === '/api/reauth'
      ? { password }
      : { current_password: password, new_password: 'a brand new passphrase 9' };
  return s.request('POST', path, { headers, body });
}

function expectLimited(res: TestResponse, windowSeconds: number): void {
  expect(res.status, res.text).toBe(429);
  expect(res.body.code).toBe('ERR_RATE_LIMITED');
  const after = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(after)).toBe(true);
  expect(after).toBeGreaterThanOrEqual(1);
  expect(after).toBeLessThanOrEqual(windowSeconds);
}

describe('the password-checking limit keys on the verified user', () => {
  for (const path of ['/api/reauth', '/api/password'] as const) {
    it(`${path}: re-spelled headers, junk cookies and fresh addresses share one budget per user`, async () => {
      const s = await start();
      const victim = await signUp(s, `victim-${path.slice(5)}@example.com`, PASSWORD);
      const statuses: number[] = [];
      let evaluated = 0;
      for (const [i, headers] of spellings(victim.access_token).entries()) {
        const res = await guess(
          s,
          path,
          { ...headers, 'x-forwarded-for': freshAddress() },
          `wrong guess ${i}`,
        );
        statuses.push(res.status);
        if (res.status === 403) {
          // The password was checked (and was wrong).
          expect(res.body.code).toBe('ERR_INVALID_CREDENTIALS');
          evaluated++;
        } else if (res.status === 401) {
          // A header the server does not accept as Bearer (the tab): refused before any password is checked.
          expect(res.body.code).toBe('ERR_AUTH_REQUIRED');
        } else {
          expectLimited(res, 60);
        }
      }
      expect(evaluated, `statuses: ${statuses.join(',')}`).toBe(BUDGET);
      expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(30);
      // The right password is not evaluated either now, under any spelling or address: the guessing is over.
      const rightPassword: Array<Record<string, string>> = [
        { authorization: `Bearer ${victim.access_token}` },
        { authorization: `bearer     ${victim.access_token}`, cookie: 'a=b' },
      ];
      for (const headers of rightPassword) {
        expectLimited(await guess(s, path, { ...headers, 'x-forwarded-for': freshAddress() }, PASSWORD), 60);
      }
      // One budget for both routes: the other password-checking route is spent too.
      const other = path === '/api/reauth' ? '/api/password' : '/api/reauth';
      expectLimited(
        await guess(
          s,
          other,
          { authorization: `BEARER ${victim.access_token}`, 'x-forwarded-for': freshAddress() },
          PASSWORD,
        ),
        60,
      );
      // The password is unchanged: the victim still signs in with it (the account is not taken over).
      const login = await s.request('POST', '/api/login', {
        headers: { 'x-forwarded-for': freshAddress() },
        body: { email: `victim-${path.slice(5)}@example.com`, password: PASSWORD },
      });
      expect(login.status).toBe(200);
      // The refusal is recorded once per refused guess, naming the user and the limit.
      const events = await s.app.jot.store.listSecurityEvents({
        limit: 100,
        userId: victim.userId,
        type: 'rate_limited',
      });
      expect(events.length).toBeGreaterThan(0);
      expect(events.every((e) => e.detail.limit === 'password-check')).toBe(true);
      // Another user is not affected by the victim's spent budget.
      const bystander = await signUp(s, `bystander-${path.slice(5)}@example.com`, PASSWORD);
      const ok = await s.request('POST', '/api/reauth', {
        headers: { authorization: `Bearer ${bystander.access_token}`, 'x-forwarded-for': freshAddress() },
        body: { password: PASSWORD },
      });
      expect(ok.status).toBe(200);
    });
  }

  it('a second session of the same user shares the budget (the key is the user, not the token)', async () => {
    const s = await start();
    const first = await signUp(s, 'two-sessions@example.com', PASSWORD);
    for (let i = 0; i < BUDGET; i++) {
      const res = await guess(
        s,
        '/api/reauth',
        { authorization: `Bearer ${first.access_token}`, 'x-forwarded-for': freshAddress() },
        `wrong ${i}`,
      );
      expect(res.status).toBe(403);
    }
    const second = await s.request('POST', '/api/login', {
      headers: { 'x-forwarded-for': freshAddress() },
      body: { email: 'two-sessions@example.com', password: PASSWORD },
    });
    expect(second.status).toBe(200);
    expectLimited(
      await guess(
        s,
        '/api/reauth',
        { authorization: `Bearer ${second.body.access_token}`, 'x-forwarded-for': freshAddress() },
        PASSWORD,
      ),
      60,
    );
  });
});

describe('the per-address limit applies in addition to the per-user one', () => {
  for (const path of ['/api/reauth', '/api/password'] as const) {
    it(`${path}: two users guessing from one address are stopped by the address's budget`, async () => {
      const s = await start();
      const address = freshAddress();
      const a = await signUp(s, `a-${path.slice(5)}@example.com`, PASSWORD);
      const b = await signUp(s, `b-${path.slice(5)}@example.com`, PASSWORD);
      const statuses: number[] = [];
      // 3 guesses as A and 2 as B: each user is under the per-user budget, the address has spent its own.
      for (const [user, n] of [
        [a, 3],
        [b, 2],
      ] as const) {
        for (let i = 0; i < n; i++) {
          const res = await guess(
            s,
            path,
            { authorization: `Bearer  ${user.access_token}`, 'x-forwarded-for': address },
            `wrong ${i}`,
          );
          statuses.push(res.status);
        }
      }
      expect(statuses).toEqual([403, 403, 403, 403, 403]);
      const overAddress = await guess(
        s,
        path,
        { authorization: `bearer ${b.access_token}`, 'x-forwarded-for': address },
        'wrong again',
      );
      expectLimited(overAddress, 60);
      // B's own budget was not spent by the address's refusal: from elsewhere B's guess is still evaluated.
      const elsewhere = await guess(
        s,
        path,
        { authorization: `Bearer ${b.access_token}`, 'x-forwarded-for': freshAddress() },
        'wrong elsewhere',
      );
      expect(elsewhere.status).toBe(403);
      expect(elsewhere.body.code).toBe('ERR_INVALID_CREDENTIALS');
    });
  }
});
