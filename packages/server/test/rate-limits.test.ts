/**
 * Every rate limit of the server, driven to its 429 and back (issue 9: "today no test ever triggers a 429"):
 * - per client address and route (`JOT_RATE_LIMIT_AUTH`): found by probing every route of the OpenAPI document, so
 *   a route that gains or loses the limit fails here until the list below says so;
 * - per verified user (`password-check`: password change and step-up; `mfa-check`: TOTP confirmation and MFA
 *   step-up; `email-change`), across addresses and header spellings;
 * - per mail address (`JOT_RATE_LIMIT_MAIL`): forgotten password and new verification link;
 * - per account across addresses (`JOT_LOGIN_LOCKOUT`): the sign-in lock with exponential back-off, with a
 *   controlled clock;
 * - per account for second-factor attempts (`JOT_MFA_ACCOUNT_LIMIT`), with a controlled clock.
 * Single-token renewal (per session, `JOT_RATE_LIMIT_RENEW`) is driven the same way in token-renewal.test.ts.
 * And with two instances on one PostgreSQL database and one Redis, every kind of limit is one budget for both.
 *
 * Each 429 carries a stable code and a `Retry-After` (whole seconds, at least 1, at most the window), and the limit
 * lets requests through again once that time has passed — waited for with deadlines, or by moving the clock.
 */
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore, type Store } from '../src/index.js';
import { totpCode } from '../src/services/totp.js';
import { requirePostgres } from './support/postgres.js';
import { waitFor } from './support/processes.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import {
  signUp,
  signUpVerified,
  startServer,
  type TestServer,
  verifyAddressOf,
} from './support/jot-server.js';
import { enrolTotp } from './support/totp-enrolment.js';

const redisAvailable = await requireRedis('the rate limits across instances');
const pg = await requirePostgres('the rate limits across instances');

const PASSWORD = 'correct horse battery';
/** An account made without its verification mail, so it spends no mail budget before the test counts. */
async function accountWithoutMail(server: TestServer, email: string): Promise<void> {
  await server.app.jot.accounts.create({ email, password: PASSWORD, via: 'register' });
}

/** A short window, so recovery is observed in seconds (the shortest JOT_RATE_LIMIT_* window is 1 s). */
const WINDOW_S = 3;
const RATE = `2/${WINDOW_S}s`;

// A random start: runs at the same time (sharing Redis) never share an address.
let nextAddress = randomInt(1, 2 ** 24 - 100_000);
/** A fresh client address (the servers trust X-Forwarded-For, as behind a proxy). */
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

interface Probe {
  status: number;
  code?: string;
  retryAfter: number | null;
  at: number;
}

/** One request with a deadline; the body is read only when it is JSON (a stream is cancelled). */
async function send(
  server: TestServer,
  method: string,
  path: string,
  options: { address: string; token?: string; body?: unknown },
): Promise<Probe> {
  const headers: Record<string, string> = { 'x-forwarded-for': options.address };
  if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
  let body: string | undefined;
  if (method !== 'GET' && method !== 'HEAD') {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(options.body ?? {});
  }
  const res = await fetch(server.url + path, { method, headers, body, signal: AbortSignal.timeout(15_000) });
  let code: string | undefined;
  if ((res.headers.get('content-type') ?? '').includes('json')) {
    code = ((await res.json()) as { code?: string }).code;
  } else {
    await res.body?.cancel();
  }
  const after = res.headers.get('retry-after');
  return { status: res.status, code, retryAfter: after === null ? null : Number(after), at: Date.now() };
}

function expectRetryAfter(probe: Probe, code: string, windowSeconds: number): void {
  expect(probe.status).toBe(429);
  expect(probe.code).toBe(code);
  expect(probe.retryAfter).not.toBeNull();
  expect(Number.isInteger(probe.retryAfter)).toBe(true);
  expect(probe.retryAfter).toBeGreaterThanOrEqual(1);
  expect(probe.retryAfter).toBeLessThanOrEqual(windowSeconds);
}

/**
 * Waits (deadline, not a sleep) until `attempt` is no longer refused, and checks it was not refused for much longer
 * than the `Retry-After` of `limited` said.
 */
async function expectRecovers(what: string, limited: Probe, attempt: () => Promise<Probe>): Promise<Probe> {
  const after = await waitFor(
    `${what} to be allowed again`,
    async () => {
      const probe = await attempt();
      return probe.status === 429 ? undefined : probe;
    },
    limited.retryAfter! * 1000 + 20_000,
    100,
  );
  // Generous slack for a loaded machine: the point is that the promised time is not a lie by whole windows.
  expect(after.at - limited.at).toBeLessThanOrEqual(limited.retryAfter! * 1000 + 10_000);
  return after;
}

/**
 * The routes limited per client address. The probe below must find exactly these: adding the limit to a route or
 * taking it away is a decision this list records.
 */
const LIMITED_PER_ADDRESS = [
  'POST /api/register',
  'POST /api/login',
  'POST /api/login/mfa',
  'POST /api/login/mfa/passkey-options',
  'POST /api/passkeys/login/options',
  'POST /api/passkeys/login',
  'POST /api/password',
  'POST /api/reauth',
  'POST /api/mfa/totp/confirm',
  'POST /api/mfa/step-up',
  'POST /api/password/forgot',
  'POST /api/password/reset',
  'POST /api/email/verify',
  'POST /api/email/verification',
  'POST /api/email/change',
  'POST /api/email/change/confirm',
  'POST /api/invitations/accept',
].sort();
// Not here, by decision: `POST /api/token/refresh`, `POST /api/token/renew` and `POST /oauth/token` limit who acts —
// failures per address (unknown or forged tokens), calls per authenticated client — never successes per address
// (token-routes-limit-who-acts.test.ts, stale-tokens-cost-the-address-nothing.test.ts).

describe('per client address (JOT_RATE_LIMIT_AUTH)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ rateLimitAuth: RATE, trustProxy: true });
  });
  afterAll(async () => {
    await server.close();
  });

  it('every route of the OpenAPI document is probed; exactly the listed ones answer their third request with 429, then recover', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, unknown>>;
    };
    const found: Array<{ route: string; path: string; method: string; address: string; limited: Probe }> = [];
    for (const [path, operations] of Object.entries(doc.paths)) {
      const concrete = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        const address = freshAddress();
        const probes: Probe[] = [];
        for (let i = 0; i < 3; i++) probes.push(await send(server, method, concrete, { address }));
        const route = `${method} ${path}`;
        if (probes[2]!.status !== 429) {
          expect(probes.map((p) => p.status)).not.toContain(429);
          continue;
        }
        // The budget is two: the first two were answered on their merits.
        expect({ route, refused: probes.slice(0, 2).filter((p) => p.status === 429) }).toEqual({
          route,
          refused: [],
        });
        expectRetryAfter(probes[2]!, 'ERR_RATE_LIMITED', WINDOW_S);
        found.push({ route, path: concrete, method, address, limited: probes[2]! });
      }
    }
    expect(found.map((f) => f.route).sort()).toEqual(LIMITED_PER_ADDRESS);
    // Another address is not affected; the limited one is let through again after its Retry-After.
    await Promise.all(
      found.map(async (f) => {
        expect((await send(server, f.method, f.path, { address: freshAddress() })).status).not.toBe(429);
        await expectRecovers(f.route, f.limited, () =>
          send(server, f.method, f.path, { address: f.address }),
        );
      }),
    );
    // Refusals are recorded (one event per address and route and window, not one per refused request).
    const events = await server.app.jot.store.listSecurityEvents({ limit: 500, type: 'rate_limited' });
    expect(events.filter((e) => e.detail.limit === 'address').length).toBeGreaterThanOrEqual(found.length);
  }, 180_000);

  it('a forwarded address with a port (a new one per connection) spends the address budget, not one per port', async () => {
    const address = freshAddress();
    const attempt = (port: number) =>
      send(server, 'POST', '/api/password/forgot', {
        address: `${address}:${port}`,
        body: { email: `port-${port}@example.com` },
      });
    expect((await attempt(40001)).status).toBe(202);
    expect((await attempt(40002)).status).toBe(202);
    expectRetryAfter(await attempt(40003), 'ERR_RATE_LIMITED', WINDOW_S);
    // The same address without a port is the same client.
    expectRetryAfter(
      await send(server, 'POST', '/api/password/forgot', {
        address,
        body: { email: 'port-bare@example.com' },
      }),
      'ERR_RATE_LIMITED',
      WINDOW_S,
    );
  });
});

// Concurrent: each case has its own user, so its own budgets, and most of a case is the wait for its window to pass.
describe.concurrent('per verified user, across addresses', () => {
  let server: TestServer;
  beforeAll(async () => {
    // Per-address limits out of the way: every request below comes from a fresh address anyway.
    server = await startServer({ rateLimitAuth: RATE, trustProxy: true });
    await accountWithoutMail(server, 'taken@example.com');
  });

  /** signUpVerified from a fresh address: the cases sign up at once, and the sign-up routes are limited per address. */
  async function verifiedUser(email: string): Promise<{ access_token: string; userId: string }> {
    const headers = { 'x-forwarded-for': freshAddress() };
    const reg = await server.request('POST', '/api/register', {
      headers,
      body: { email, password: PASSWORD },
    });
    expect(reg.status).toBe(201);
    const login = await server.request('POST', '/api/login', {
      headers,
      body: { email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    await verifyAddressOf(server, reg.body.id as string);
    return { access_token: login.body.access_token as string, userId: reg.body.id as string };
  }
  afterAll(async () => {
    await server.close();
  });

  const cases = [
    {
      limit: 'password-check',
      routes: [
        ['POST', '/api/reauth', { password: 'a wrong guess' }],
        ['POST', '/api/password', { current_password: 'a wrong guess', new_password: 'a new passphrase 1' }],
      ],
    },
    {
      limit: 'mfa-check',
      routes: [
        [
          'POST',
          '/api/mfa/totp/confirm',
          { factor_id: '00000000-0000-4000-8000-000000000000', code: '000000' },
        ],
        ['POST', '/api/mfa/step-up', { code: '000000' }],
      ],
    },
    {
      limit: 'email-change',
      routes: [['POST', '/api/email/change', { new_email: 'taken@example.com' }]],
    },
  ] as const;

  for (const { limit, routes } of cases) {
    it(`${limit}: ${routes.map((r) => r[1]).join(' and ')} share one budget per user, 429 with Retry-After, then recover`, async () => {
      const user = await verifiedUser(`${limit}@example.com`);
      const attempt = (i: number) => {
        const [method, path, body] = routes[i % routes.length]!;
        return send(server, method, path, { address: freshAddress(), token: user.access_token, body });
      };
      const answered = [await attempt(0), await attempt(1)];
      for (const probe of answered) expect(probe.status).not.toBe(429);
      const limited = await attempt(2);
      expectRetryAfter(limited, 'ERR_RATE_LIMITED', WINDOW_S);
      // Every route of the budget is refused now, from any address.
      for (let i = 0; i < routes.length; i++) expect((await attempt(i)).status).toBe(429);
      const events = await server.app.jot.store.listSecurityEvents({
        limit: 50,
        userId: user.userId,
        type: 'rate_limited',
      });
      expect(events.some((e) => e.detail.limit === limit)).toBe(true);
      await expectRecovers(limit, limited, () => attempt(0));
    });
  }
});

// Concurrent: the mail routes share one budget per recipient, so each route has recipients of its own; most of a
// case is the wait for its window to pass.
describe.concurrent('per mail address (JOT_RATE_LIMIT_MAIL)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ rateLimitMail: RATE, rateLimitAuth: '10000/min', trustProxy: true });
    await accountWithoutMail(server, 'mail-limited-forgot@example.com');
    await accountWithoutMail(server, 'mail-limited-verification@example.com');
  });
  afterAll(async () => {
    await server.close();
  });

  for (const path of ['/api/password/forgot', '/api/email/verification']) {
    const route = path.split('/').pop()!;
    for (const email of [`mail-limited-${route}@example.com`, `no-such-account-${route}@example.com`]) {
      it(`${path} for ${email.startsWith('no-') ? 'an unknown' : 'a known'} address: 429 with Retry-After from any client address, then recovers`, async () => {
        const attempt = () => send(server, 'POST', path, { address: freshAddress(), body: { email } });
        expect((await attempt()).status).toBe(202);
        expect((await attempt()).status).toBe(202);
        const limited = await attempt();
        expectRetryAfter(limited, 'ERR_RATE_LIMITED', WINDOW_S);
        const recovered = await expectRecovers(`${path} for ${email}`, limited, attempt);
        expect(recovered.status).toBe(202);
      });
    }
  }
});

describe('per mail address, however it is spelled', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ rateLimitMail: RATE, rateLimitAuth: '10000/min', trustProxy: true });
    await accountWithoutMail(server, 'spelled@example.com');
    await accountWithoutMail(server, 'spelt@example.com');
  });
  afterAll(async () => {
    await server.close();
  });

  // Case, fullwidth letters (NFKC) and the root dot reach the same account, so they share its budget. One address
  // per route: the mail routes share one budget per recipient, so one route would spend the other's.
  const cases = [
    [
      '/api/password/forgot',
      ['Spelled@Example.com', 'ｓｐｅｌｌｅｄ@example.com', 'spelled@example.com.', 'SPELLED@EXAMPLE.COM'],
    ],
    [
      '/api/email/verification',
      ['Spelt@Example.com', 'ｓｐｅｌｔ@example.com', 'spelt@example.com.', 'SPELT@EXAMPLE.COM'],
    ],
  ] as const;

  it('registration: its verification link spends the budget of the mailbox, whatever +tag the address has', async () => {
    const register = (email: string) =>
      send(server, 'POST', '/api/register', { address: freshAddress(), body: { email, password: PASSWORD } });
    expect((await register('inbox+1@example.com')).status).toBe(201);
    expect((await register('inbox+2@example.com')).status).toBe(201);
    expectRetryAfter(await register('inbox+3@example.com'), 'ERR_RATE_LIMITED', WINDOW_S);
    // Refused before the account was made: the address is free once the budget recovers.
    expect(await server.app.jot.store.getUserByEmail('inbox+3@example.com')).toBeUndefined();
    // The mailbox's other routes share the spent budget.
    expectRetryAfter(
      await send(server, 'POST', '/api/password/forgot', {
        address: freshAddress(),
        body: { email: 'Inbox+Other@Example.com' },
      }),
      'ERR_RATE_LIMITED',
      WINDOW_S,
    );
    // Another mailbox is not affected.
    expect((await register('inbox2+1@example.com')).status).toBe(201);
  });

  it('a refused registration mails nothing and spends no budget: a weak password, an address taken', async () => {
    const register = (email: string, password: string) =>
      send(server, 'POST', '/api/register', { address: freshAddress(), body: { email, password } });
    for (let i = 0; i < 3; i++) expect((await register('refused@example.com', 'password')).status).toBe(400);
    for (let i = 0; i < 3; i++) expect((await register('Spelled@example.com', PASSWORD)).status).toBe(409);
    // The two mails of the budget are still there.
    expect((await register('refused@example.com', PASSWORD)).status).toBe(201);
    expect(
      (
        await send(server, 'POST', '/api/password/forgot', {
          address: freshAddress(),
          body: { email: 'refused+x@example.com' },
        })
      ).status,
    ).toBe(202);
  });

  it('Gmail addresses: dots and googlemail.com reach one mailbox, so they share one budget', async () => {
    const attempt = (email: string) =>
      send(server, 'POST', '/api/password/forgot', { address: freshAddress(), body: { email } });
    expect((await attempt('dotted.name@gmail.com')).status).toBe(202);
    expect((await attempt('dottedname+x@googlemail.com')).status).toBe(202);
    expectRetryAfter(await attempt('d.o.t.t.e.d.n.a.m.e@gmail.com'), 'ERR_RATE_LIMITED', WINDOW_S);
    // Dots elsewhere are letters of other mailboxes.
    expect((await attempt('dotted.name@example.com')).status).toBe(202);
  });

  for (const [path, spellings] of cases) {
    it(`${path}: one budget for every spelling of the address`, async () => {
      const attempt = (email: string) =>
        send(server, 'POST', path, { address: freshAddress(), body: { email } });
      expect((await attempt(spellings[0])).status).toBe(202);
      expect((await attempt(spellings[1])).status).toBe(202);
      expectRetryAfter(await attempt(spellings[2]), 'ERR_RATE_LIMITED', WINDOW_S);
      expectRetryAfter(await attempt(spellings[3]), 'ERR_RATE_LIMITED', WINDOW_S);
    });
  }
});

describe('per account across addresses (JOT_LOGIN_LOCKOUT), controlled clock', () => {
  let now = Date.UTC(2031, 2, 1, 9, 0, 0);
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(
      { loginLockout: '2/30s', loginLockoutMax: '2m', rateLimitAuth: '10000/min', trustProxy: true },
      { clock: () => now },
    );
    await signUp(server, 'locked@example.com', PASSWORD);
  });
  afterAll(async () => {
    await server.close();
  });

  const login = (email: string, password: string) =>
    send(server, 'POST', '/api/login', { address: freshAddress(), body: { email, password } });

  for (const email of ['locked@example.com', 'unknown-account@example.com']) {
    it(`${email.startsWith('unknown') ? 'an unknown' : 'a known'} account: locked with exponential back-off up to the maximum, 429 ERR_LOGIN_LOCKED with Retry-After, then free again`, async () => {
      expect((await login(email, 'wrong one')).status).toBe(401);
      expect((await login(email, 'wrong two')).status).toBe(401);
      // Locked for 30 s: even the right password is not checked.
      const locked = await login(email, PASSWORD);
      expectRetryAfter(locked, 'ERR_LOGIN_LOCKED', 30);
      expect(locked.retryAfter).toBe(30);
      now += 10_000;
      expect((await login(email, PASSWORD)).retryAfter).toBe(20);
      now += 20_000;
      // Free again; a further failure doubles the lock: 60 s, then 120 s, then capped at the 2 min maximum.
      for (const expected of [60, 120, 120]) {
        expect((await login(email, 'wrong again')).status).toBe(401);
        const again = await login(email, PASSWORD);
        expectRetryAfter(again, 'ERR_LOGIN_LOCKED', expected);
        expect(again.retryAfter).toBe(expected);
        now += expected * 1000;
      }
      const after = await login(email, PASSWORD);
      expect(after.status).toBe(email === 'locked@example.com' ? 200 : 401);
    });
  }

  it('records account_locked for the account', async () => {
    const events = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'account_locked' });
    expect(events.length).toBeGreaterThan(0);
  });
});

describe('second-factor attempts per account (JOT_MFA_ACCOUNT_LIMIT), controlled clock', () => {
  let now = Date.UTC(2031, 2, 1, 9, 0, 10);
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(
      { mfaAccountLimit: '3/1m', rateLimitAuth: '10000/min', trustProxy: true, accessTokenTtl: '1h' },
      { clock: () => now },
    );
  });
  afterAll(async () => {
    await server.close();
  });

  it('the attempt over the budget gets 429 ERR_MFA_LOCKED with Retry-After, the right code included, until the window passes', async () => {
    const email = 'mfa-limited@example.com';
    const user = await signUpVerified(server, email, PASSWORD);
    const { secret } = await enrolTotp(server, user.access_token, { at: now });
    now += 30_000; // the next TOTP step, so codes below are fresh
    const mfaToken = async (): Promise<string> => {
      const res = await server.request('POST', '/api/login', {
        headers: { 'x-forwarded-for': freshAddress() },
        body: { email, password: PASSWORD },
      });
      expect(res.status).toBe(403);
      return res.body.mfa_token as string;
    };
    const second = async (token: string, code: string) =>
      send(server, 'POST', '/api/login/mfa', { address: freshAddress(), body: { mfa_token: token, code } });
    const wrong = totpCode(secret, now + 10 * 30_000);
    const token = await mfaToken();
    for (let i = 0; i < 3; i++) expect((await second(token, wrong)).code).toBe('ERR_MFA_CODE_INVALID');
    const locked = await second(await mfaToken(), totpCode(secret, now));
    expectRetryAfter(locked, 'ERR_MFA_LOCKED', 60);
    now += locked.retryAfter! * 1000;
    const ok = await second(await mfaToken(), totpCode(secret, now));
    expect(ok.status).toBe(200);
    const events = await server.app.jot.store.listSecurityEvents({
      limit: 20,
      userId: user.userId,
      type: 'mfa_locked',
    });
    expect(events.length).toBeGreaterThan(0);
  });
});

describe.runIf(redisAvailable && pg !== undefined)('across two instances (one PostgreSQL, one Redis)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-limits-'));
  const stores: Store[] = [];
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const settings = {
      rateLimitAuth: RATE,
      rateLimitMail: RATE,
      loginLockout: '2/30s',
      trustProxy: true,
      redisUrl: TEST_REDIS_URL,
    };
    const instances: TestServer[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } });
      stores.push(store);
      instances.push(await startServer(settings, { dataDir, store }));
    }
    [a, b] = instances as [TestServer, TestServer];
  });
  afterAll(async () => {
    for (const server of [a, b]) await server?.close({ keepData: true });
    for (const store of stores) await store.close();
    await pg?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Registers and signs in from fresh addresses (the register and login budgets are shared too). */
  async function account(email: string): Promise<{ access_token: string }> {
    const register = await send(a, 'POST', '/api/register', {
      address: freshAddress(),
      body: { email, password: PASSWORD },
    });
    expect(register.status).toBe(201);
    const login = await a.request('POST', '/api/login', {
      headers: { 'x-forwarded-for': freshAddress() },
      body: { email, password: PASSWORD },
    });
    expect(login.status).toBe(200);
    return login.body as { access_token: string };
  }

  it('per address: two requests on one instance and one on the other spend one budget', async () => {
    const address = freshAddress();
    const body = { email: 'nobody-at-all@example.com', password: 'not the password' };
    expect((await send(a, 'POST', '/api/login', { address, body })).status).toBe(401);
    expect((await send(b, 'POST', '/api/login', { address, body })).status).toBe(401);
    expectRetryAfter(await send(a, 'POST', '/api/login', { address, body }), 'ERR_RATE_LIMITED', WINDOW_S);
  });

  it('per verified user: guesses spread over both instances and many addresses share one budget', async () => {
    const user = await account(`across-${Date.now()}@example.com`);
    const guess = (server: TestServer) =>
      send(server, 'POST', '/api/reauth', {
        address: freshAddress(),
        token: user.access_token,
        body: { password: 'a wrong guess' },
      });
    expect((await guess(a)).status).toBe(403);
    expect((await guess(b)).status).toBe(403);
    expectRetryAfter(await guess(a), 'ERR_RATE_LIMITED', WINDOW_S);
    expectRetryAfter(await guess(b), 'ERR_RATE_LIMITED', WINDOW_S);
  });

  it('per mail address: requests for one address on both instances share one budget', async () => {
    const email = `mail-across-${Date.now()}@example.com`;
    const ask = (server: TestServer) =>
      send(server, 'POST', '/api/password/forgot', { address: freshAddress(), body: { email } });
    expect((await ask(a)).status).toBe(202);
    expect((await ask(b)).status).toBe(202);
    expectRetryAfter(await ask(a), 'ERR_RATE_LIMITED', WINDOW_S);
  });

  it('per account: failed sign-ins on both instances lock the account on both', async () => {
    const email = `lock-across-${Date.now()}@example.com`;
    await account(email);
    const login = (server: TestServer, password: string) =>
      send(server, 'POST', '/api/login', { address: freshAddress(), body: { email, password } });
    expect((await login(a, 'wrong one')).status).toBe(401);
    expect((await login(b, 'wrong two')).status).toBe(401);
    expectRetryAfter(await login(a, PASSWORD), 'ERR_LOGIN_LOCKED', 30);
    expectRetryAfter(await login(b, PASSWORD), 'ERR_LOGIN_LOCKED', 30);
  });
});
