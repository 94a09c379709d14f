/**
 * A confirmed address voids the account's other open mail links, on SQLite and on PostgreSQL (F3 of the
 * account-lifecycle review). Before, a link stayed alive in the database and was refused only while the account
 * differed from the claims it carried: after an address moved away and back (a → b → a), a password-reset link and
 * an email-change link mailed for `a` before the move worked again, and so did a second verification link after the
 * first had verified the address. Now confirming an email change, following a verification or reset link, spends
 * the others of the kinds it outdates in the same transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  followEmailChangeLink,
  followVerificationLink,
  signUp,
  startServer,
  type TestServer,
} from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';
import { serverBackends } from './support/store-backends.js';

const backends = await serverBackends('email-change-voids-links');

describe.each(backends)('links voided by a confirmed address ($name)', (backend) => {
  let smtp: TestSmtp;
  let server: TestServer;
  let dataDir: string;

  beforeAll(async () => {
    smtp = await startSmtp();
    dataDir = mkdtempSync(join(tmpdir(), 'jot-voids-'));
    server = await startServer(
      { smtpUrl: smtp.url, mailRetryBase: '1s', rateLimitMail: '100/15m' },
      { dataDir, store: await backend.open(dataDir) },
    );
    await signUp(server, 'first@example.com');
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.stop();
    await backend.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** The link token of the `nth` (0-based) message to `to` whose subject matches. */
  async function tokenTo(to: string, subject: RegExp, nth = 0): Promise<string> {
    const matching = (m: { to: string[]; subject: string }) => m.to.includes(to) && subject.test(m.subject);
    await smtp.waitFor((m) => matching(m) && smtp.messages.filter(matching).indexOf(m) === nth);
    return tokenIn(linkIn(smtp.messages.filter(matching)[nth]!));
  }

  /** Asks to move the account to `to` and confirms it with the link mailed there. */
  async function moveTo(accessToken: string, to: string, nth = 0): Promise<void> {
    const asked = await server.request('POST', '/api/email/change', {
      token: accessToken,
      body: { new_email: to },
    });
    expect(asked.status).toBe(202);
    const token = await tokenTo(to, /confirm your new email/i, nth);
    const done = await followEmailChangeLink(server, token);
    expect(done.status).toBe(200);
  }

  it('links mailed before an email change stay dead when the address changes back', async () => {
    const user = await signUp(server, 'a@example.com');
    const verify = await tokenTo('a@example.com', /confirm your email/i);
    expect(
      (await server.request('POST', '/api/password/forgot', { body: { email: 'a@example.com' } })).status,
    ).toBe(202);
    const reset = await tokenTo('a@example.com', /reset your password/i);
    const pending = await server.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: 'c@example.com' },
    });
    expect(pending.status).toBe(202);
    const toC = await tokenTo('c@example.com', /confirm your new email/i);

    await moveTo(user.access_token, 'b@example.com');
    await moveTo(user.access_token, 'a@example.com');

    // The account is `a@` again, with the same password and credential generation the links were issued under.
    for (const [path, body] of [
      ['/api/password/reset', { token: reset, new_password: 'a brand new passphrase' }],
      ['/api/email/change/confirm', { token: toC }],
      ['/api/email/verify', { token: verify }],
    ] as const) {
      const res = await server.request('POST', path, { body });
      expect({ path, status: res.status, code: res.body.code }).toEqual({
        path,
        status: 400,
        code: 'ERR_LINK_USED',
      });
    }
    const who = await server.request('GET', '/api/whoami', { token: user.access_token });
    expect(who.body.user.email).toBe('a@example.com');
    const login = await server.request('POST', '/api/login', {
      body: { email: 'a@example.com', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
  });

  it('following one verification link spends the older ones, and the link followed works once', async () => {
    await signUp(server, 'twice@example.com');
    const first = await tokenTo('twice@example.com', /confirm your email/i);
    const again = await server.request('POST', '/api/email/verification', {
      body: { email: 'twice@example.com' },
    });
    expect(again.status).toBe(202);
    const second = await tokenTo('twice@example.com', /confirm your email/i, 1);
    const followed = await followVerificationLink(server, second);
    expect(followed.status).toBe(200);
    for (const token of [first, second]) {
      const res = await server.request('POST', '/api/email/verify', { body: { token } });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'ERR_LINK_USED' });
    }
  });

  it('a reset link spends the account’s other links, and leaves the one it used spent once', async () => {
    await signUp(server, 'resets@example.com');
    const verify = await tokenTo('resets@example.com', /confirm your email/i);
    for (const _ of [0, 1]) {
      await server.request('POST', '/api/password/forgot', { body: { email: 'resets@example.com' } });
    }
    const older = await tokenTo('resets@example.com', /reset your password/i, 0);
    const newer = await tokenTo('resets@example.com', /reset your password/i, 1);
    const done = await server.request('POST', '/api/password/reset', {
      body: { token: newer, new_password: 'a brand new passphrase' },
    });
    expect(done.status).toBe(200);
    for (const [path, body] of [
      ['/api/password/reset', { token: older, new_password: 'another new passphrase' }],
      ['/api/password/reset', { token: newer, new_password: 'another new passphrase' }],
      ['/api/email/verify', { token: verify }],
    ] as const) {
      const res = await server.request('POST', path, { body });
      expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'ERR_LINK_USED' });
    }
  });
});
