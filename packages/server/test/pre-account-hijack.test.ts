/**
 * Pre-account hijacking: someone registers another person's address first, adds their own second factor and waits
 * for the address's owner to "recover" the account with a password reset — keeping the squatter's factor. Guarded
 * three ways (services/enrolment-gate.ts): while the address is unverified (verification on) every enrolment route
 * answers 403 `ERR_EMAIL_NOT_VERIFIED` and `GET /api/mfa` says `needs_verified_email`; a reset of an unverified
 * account (which proves the mailbox) removes its factors and recovery codes, recorded as `mfa_reset` by
 * `password_reset`; and the sign-up's verification mail tells an owner who did not register how to take over.
 * Nor does the owner's click on that mail's link verify the squatter's account: the first verification takes the
 * password it was registered with (services/registrant-proof.ts; the mechanics:
 * first-verification-proves-the-registrant.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  followVerificationLink,
  signUp,
  signUpVerified,
  startServer,
  type TestResponse,
  type TestServer,
} from './support/jot-server.js';
import { registerPasskey, TEST_ORIGIN } from './support/passkey-registration.js';
import { linkIn, startSmtp, tokenIn, type ReceivedMail, type TestSmtp } from './support/smtp.js';
import { newCredential, registrationResponse } from './support/soft-authenticator.js';
import { enrolTotp } from './support/totp-enrolment.js';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'the owner takes it back';
const MAIL = { publicUrl: 'http://ui.test', mailRetryBase: '1s' } as const;

let smtp: TestSmtp;
let server: TestServer;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer({ ...MAIL, smtpUrl: smtp.url });
  await signUp(server, 'first-admin@example.com');
});
afterAll(async () => {
  await server?.close();
  await smtp?.stop();
});

const mailTo = (address: string, subject: RegExp): Promise<ReceivedMail> =>
  smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject));

/** Each enrolment step, as the signed-in user sends it (`userId` for a passkey credential's handle). */
function enrolmentSteps(userId: string): [string, unknown][] {
  const credential = newCredential(userId);
  return [
    ['/api/mfa/totp', undefined],
    ['/api/mfa/totp/confirm', { factor_id: 'any-pending-factor', code: '123456' }],
    ['/api/passkeys/register/options', undefined],
    [
      '/api/passkeys/register',
      {
        credential: registrationResponse(
          credential,
          { challenge: 'AAAA', rp: { id: 'jot.test' } },
          TEST_ORIGIN,
        ),
      },
    ],
    ['/api/mfa/recovery-codes', undefined],
  ];
}

function expectNotVerified(res: TestResponse, path: string): void {
  expect({ path, status: res.status, code: res.body.code }).toEqual({
    path,
    status: 403,
    code: 'ERR_EMAIL_NOT_VERIFIED',
  });
  expect(res.body.error_description).toMatch(/confirm your email address first/);
}

/** Asks for a reset link for `email` and follows it with {@link NEW_PASSWORD}. */
async function resetPassword(on: TestServer, email: string): Promise<void> {
  const asked = await on.request('POST', '/api/password/forgot', { body: { email } });
  expect(asked.status).toBe(202);
  const token = tokenIn(linkIn(await mailTo(email, /reset your password/i)));
  const reset = await on.request('POST', '/api/password/reset', {
    body: { token, new_password: NEW_PASSWORD },
  });
  expect(reset.status, reset.text).toBe(200);
}

const mfaResets = async (on: TestServer, userId: string) =>
  on.app.jot.store.listSecurityEvents({ limit: 10, userId, type: 'mfa_reset' });

describe('factor enrolment while the address is unverified', () => {
  it('every enrolment route answers 403 ERR_EMAIL_NOT_VERIFIED, and GET /api/mfa says needs_verified_email', async () => {
    const user = await signUp(server, 'squatted@example.com');
    const status = await server.request('GET', '/api/mfa', { token: user.access_token });
    expect(status.body).toMatchObject({ enabled: false, needs_verified_email: true });
    for (const [path, body] of enrolmentSteps(user.userId)) {
      expectNotVerified(await server.request('POST', path, { token: user.access_token, body }), path);
    }
    expect(await server.app.jot.store.mfa.listFactors(user.userId)).toEqual([]);
  });

  it('works once the address is verified through the link of the sign-up mail', async () => {
    const email = 'owner@example.com';
    const user = await signUp(server, email);
    const token = tokenIn(linkIn(await mailTo(email, /confirm your email/i)));
    expect((await followVerificationLink(server, token)).status).toBe(200);

    const status = await server.request('GET', '/api/mfa', { token: user.access_token });
    expect(status.body).toMatchObject({ needs_verified_email: false });
    const { confirmed } = await enrolTotp(server, user.access_token);
    const aal2 = confirmed.body.access_token as string;
    expect((await registerPasskey(server, aal2, newCredential(user.userId))).status).toBe(201);
    expect((await server.request('POST', '/api/mfa/recovery-codes', { token: aal2 })).status).toBe(200);
  });

  it('is not refused with JOT_EMAIL_VERIFICATION=off (no address is ever proven there)', async () => {
    const off = await startServer({ emailVerification: 'off' });
    try {
      await signUp(off, 'first@example.com');
      const user = await signUp(off, 'unproven@example.com');
      const status = await off.request('GET', '/api/mfa', { token: user.access_token });
      expect(status.body).toMatchObject({ needs_verified_email: false });
      const { confirmed } = await enrolTotp(off, user.access_token);
      const aal2 = confirmed.body.access_token as string;
      expect((await registerPasskey(off, aal2, newCredential(user.userId))).status).toBe(201);
      expect((await off.request('POST', '/api/mfa/recovery-codes', { token: aal2 })).status).toBe(200);
    } finally {
      await off.close();
    }
  });
});

describe('a password reset', () => {
  it("of an unverified account removes the squatter's factors and recovery codes, recorded as mfa_reset", async () => {
    // The squatter's factors date from before verification was turned on (the only way an unverified account
    // has any): registered and enrolled on a server with verification off, which then restarts with it on.
    const victim = 'victim@example.com';
    const before = await startServer({ ...MAIL, smtpUrl: smtp.url, emailVerification: 'off' });
    let squatter: Awaited<ReturnType<typeof signUp>>;
    try {
      await signUp(before, 'first@example.com');
      squatter = await signUp(before, victim, PASSWORD);
      const { confirmed } = await enrolTotp(before, squatter.access_token);
      const aal2 = confirmed.body.access_token as string;
      expect((await registerPasskey(before, aal2, newCredential(squatter.userId))).status).toBe(201);
    } finally {
      await before.close({ keepData: true });
    }
    const after = await startServer({ ...MAIL, smtpUrl: smtp.url }, { dataDir: before.dataDir });
    try {
      const { store } = after.app.jot;
      expect((await store.getUserById(squatter.userId))?.emailVerifiedAt).toBeNull();
      expect(await store.mfa.countRecoveryCodes(squatter.userId)).toBe(10);

      await resetPassword(after, victim);

      expect(await store.mfa.listFactors(squatter.userId)).toEqual([]);
      expect(await store.mfa.countRecoveryCodes(squatter.userId)).toBe(0);
      expect((await store.getUserById(squatter.userId))?.emailVerifiedAt).not.toBeNull();
      const events = await mfaResets(after, squatter.userId);
      expect(events.map((e) => e.detail)).toEqual([{ by: 'password_reset', removed: 2 }]);
      // The owner is told what went, and where to set up their own.
      const done = await mailTo(victim, /two-step verification removed/i);
      expect(done.text).toContain('The address had not been confirmed before');
      expect(done.text).toContain('http://ui.test/#/account');
      // The owner signs in with the new password alone: no second step the squatter could answer.
      const login = await after.request('POST', '/api/login', {
        body: { email: victim, password: NEW_PASSWORD },
      });
      expect(login.status, login.text).toBe(200);
      const status = await after.request('GET', '/api/mfa', { token: login.body.access_token as string });
      expect(status.body).toMatchObject({ enabled: false, factors: [], needs_verified_email: false });
    } finally {
      await after.close();
    }
  });

  it('of a verified account keeps its factors and records no mfa_reset', async () => {
    const email = 'keeps@example.com';
    const user = await signUpVerified(server, email, PASSWORD);
    await enrolTotp(server, user.access_token);

    await resetPassword(server, email);

    expect(await server.app.jot.store.mfa.listFactors(user.userId)).toHaveLength(1);
    expect(await server.app.jot.store.mfa.countRecoveryCodes(user.userId)).toBe(10);
    expect(await mfaResets(server, user.userId)).toEqual([]);
    const done = await mailTo(email, /your password was reset$/i);
    expect(done.text).not.toContain('two-step verification');
    const login = await server.request('POST', '/api/login', { body: { email, password: NEW_PASSWORD } });
    expect(login.body.code).toBe('ERR_MFA_REQUIRED');
  });
});

describe('the verification mail of a new account', () => {
  it('says how to take the account over when its recipient did not create it, with the forgot-password link', async () => {
    await signUp(server, 'mail-reader@example.com');
    const mail = await mailTo('mail-reader@example.com', /confirm your email/i);
    expect(mail.text).toContain("Didn't create this account? Someone may have used your address");
    expect(mail.text).toContain("use 'forgot password' to take it over instead");
    expect(mail.text).toContain('http://ui.test/#/forgot-password');
    expect(mail.html).toContain('href="http://ui.test/#/forgot-password"');
    // The link asks for the password: the mail says so, in both bodies.
    for (const body of [mail.text, mail.html])
      expect(body).toContain('You will be asked for the password you registered with.');
    // The verification link still comes first (what linkIn and the UI's users read).
    expect(linkIn(mail)).toMatch(/^http:\/\/ui\.test\/#\/verify-email\?token=/);
  });

  it('a new link asked for later carries the same advice: anyone, the squatter too, can ask for one', async () => {
    await signUp(server, 'asks-again@example.com');
    const first = await mailTo('asks-again@example.com', /confirm your email/i);
    const asked = await server.request('POST', '/api/email/verification', {
      body: { email: 'asks-again@example.com' },
    });
    expect(asked.status).toBe(202);
    const again = await smtp.waitFor(
      (m) => m.to.includes('asks-again@example.com') && /confirm your email/i.test(m.subject) && m !== first,
    );
    expect(again.text).toContain("Didn't create this account? Someone may have used your address");
    expect(again.text).toContain('http://ui.test/#/forgot-password');
    expect(linkIn(again)).toMatch(/#\/verify-email\?token=/);
  });
});

describe("the sign-up mail's link, followed by the address's owner", () => {
  it("does not verify a squatter's account: the password is asked, and the owner takes the account over with a reset", async () => {
    const victim = 'clicks-the-link@example.com';
    // The squatter registers the victim's address with a password of their own, and keeps a session.
    const squatter = await signUp(server, victim, PASSWORD);
    const token = tokenIn(linkIn(await mailTo(victim, /confirm your email/i)));

    // The owner follows the link without a session of the account: it verifies nothing, and says what to do.
    const clicked = await server.request('POST', '/api/email/verify', { body: { token } });
    expect({ status: clicked.status, code: clicked.body.code }).toEqual({
      status: 400,
      code: 'ERR_PASSWORD_REQUIRED',
    });
    expect(clicked.body.error_description).toContain("take the account over with 'forgot password'");
    const { store } = server.app.jot;
    expect((await store.getUserById(squatter.userId))?.emailVerifiedAt).toBeNull();
    const claims = await server.request('GET', '/api/whoami', { token: squatter.access_token });
    expect(claims.body.claims.email_verified).toBe(false);

    // The owner takes the account over: the squatter's password and session are dead, the address verified.
    await resetPassword(server, victim);
    const theirs = await server.request('POST', '/api/login', {
      body: { email: victim, password: PASSWORD },
    });
    expect(theirs.status).toBe(401);
    expect((await server.request('GET', '/api/whoami', { token: squatter.access_token })).status).toBe(401);
    const owner = await server.request('POST', '/api/login', {
      body: { email: victim, password: NEW_PASSWORD },
    });
    expect(owner.status, owner.text).toBe(200);
    const who = await server.request('GET', '/api/whoami', { token: owner.body.access_token as string });
    expect(who.body.claims.email_verified).toBe(true);
    // The sign-up mail's link went with the reset, whatever password comes with it.
    const late = await followVerificationLink(server, token, PASSWORD);
    expect({ status: late.status, code: late.body.code }).toEqual({ status: 400, code: 'ERR_LINK_USED' });
  });
});
