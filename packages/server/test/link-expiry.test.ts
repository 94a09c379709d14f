/**
 * One-time links expire (issue 12's links, checked by issue 9's error-code rule): with a controlled clock, a
 * password-reset, email-verification, email-change or invitation link read from the message a real SMTP server
 * received still works just before its lifetime ends and answers 400 `ERR_LINK_EXPIRED` ("ask for a new one") just
 * after — and an expired link changes nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type ReceivedMail, type TestSmtp } from './support/smtp.js';

const PASSWORD = 'correct horse battery';
const MIN = 60_000;

let smtp: TestSmtp;
let server: TestServer;
let now = Date.UTC(2031, 0, 1, 12, 0, 0);
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer(
    {
      smtpUrl: smtp.url,
      publicUrl: 'http://ui.test',
      mailRetryBase: '1s',
      passwordResetTtl: '15m',
      emailVerificationTtl: '24h',
      emailChangeTtl: '1h',
      invitationTtl: '7d',
      accessTokenTtl: '30d',
    },
    { clock: () => now },
  );
  admin = await signUp(server, 'admin@example.com', PASSWORD);
});
afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

function mailTo(address: string, subject: RegExp): Promise<ReceivedMail> {
  const seen = smtp.messages.length;
  return smtp.waitFor(
    (m) => m.to.includes(address) && subject.test(m.subject) && smtp.messages.indexOf(m) >= seen,
  );
}

function expectExpired(res: { status: number; body: { code?: string; error_description?: string } }): void {
  expect(res.status).toBe(400);
  expect(res.body.code).toBe('ERR_LINK_EXPIRED');
  expect(res.body.error_description).toMatch(/expired.*ask for a new one/);
}

describe('one-time links expire', () => {
  it('a password-reset link works until its lifetime ends, then answers ERR_LINK_EXPIRED', async () => {
    await signUp(server, 'reset@example.com', PASSWORD);
    const reset = async () => {
      const mail = mailTo('reset@example.com', /reset your password/i);
      expect(
        (await server.request('POST', '/api/password/forgot', { body: { email: 'reset@example.com' } }))
          .status,
      ).toBe(202);
      return tokenIn(linkIn(await mail));
    };
    const late = await reset();
    now += 16 * MIN;
    expectExpired(
      await server.request('POST', '/api/password/reset', {
        body: { token: late, new_password: 'a password set too late' },
      }),
    );
    // Nothing changed: the old password still signs in.
    expect(
      (
        await server.request('POST', '/api/login', {
          body: { email: 'reset@example.com', password: PASSWORD },
        })
      ).status,
    ).toBe(200);
    const inTime = await reset();
    now += 14 * MIN;
    const ok = await server.request('POST', '/api/password/reset', {
      body: { token: inTime, new_password: 'a password set in time' },
    });
    expect(ok.status).toBe(200);
  });

  it('an email-verification link answers ERR_LINK_EXPIRED after 24 h and the address stays unverified', async () => {
    const mail = mailTo('verify@example.com', /confirm your email/i);
    const user = await signUp(server, 'verify@example.com', PASSWORD);
    const token = tokenIn(linkIn(await mail));
    now += 24 * 60 * MIN + 5 * MIN;
    expectExpired(await server.request('POST', '/api/email/verify', { body: { token } }));
    const me = await server.request('GET', '/api/whoami', { token: user.access_token });
    expect(me.status).toBe(200);
    expect((await server.app.jot.store.getUserById(user.userId))?.emailVerifiedAt ?? null).toBeNull();
  });

  it('an email-change link answers ERR_LINK_EXPIRED after 1 h and the email stays as it was', async () => {
    const user = await signUp(server, 'before-change@example.com', PASSWORD);
    const mail = mailTo('after-change@example.com', /confirm/i);
    const change = await server.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: 'after-change@example.com' },
    });
    expect(change.status).toBe(202);
    const token = tokenIn(linkIn(await mail));
    now += 61 * MIN;
    expectExpired(
      await server.request('POST', '/api/email/change/confirm', { body: { token, password: PASSWORD } }),
    );
    expect((await server.app.jot.store.getUserById(user.userId))?.email).toBe('before-change@example.com');
  });

  it('an invitation answers ERR_LINK_EXPIRED after 7 days and no account is created', async () => {
    const reauth = await server.request('POST', '/api/reauth', {
      token: admin.access_token,
      body: { password: PASSWORD },
    });
    expect(reauth.status).toBe(200);
    const mail = mailTo('invited@example.com', /invit/i);
    const invite = await server.request('POST', '/api/admin/invitations', {
      token: reauth.body.access_token,
      body: { email: 'invited@example.com' },
    });
    expect(invite.status).toBe(201);
    const token = tokenIn(linkIn(await mail));
    now += 7 * 24 * 60 * MIN + 5 * MIN;
    expectExpired(
      await server.request('POST', '/api/invitations/accept', {
        body: { token, password: 'an invited passphrase' },
      }),
    );
    expect(await server.app.jot.store.getUserByEmail('invited@example.com')).toBeUndefined();
  });
});
