/**
 * The email-change confirmation (`POST /api/email/change/confirm`) takes proof that whoever follows the link asked
 * for the change — a session of the account or its password — whatever the account's verification state, on SQLite
 * and on PostgreSQL. Before, the link was the proof: a squatter who registered with an address of their own, signed
 * in and asked to move the account to a victim's address got that address, verified, on the squatter's account (the
 * squatter's password and sessions and all) the moment the victim clicked "confirm the new address". Now the victim's
 * click without the password is 400 `ERR_PASSWORD_REQUIRED` and changes nothing; a wrong password is a failed
 * sign-in (`via: "email_change"`); a dead link or a disabled account is refused before any password is looked at;
 * no refusal spends the link.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PASSWORD, expectLocked } from './support/devices.js';
import { signUp, signUpVerified, type TestResponse, type TestServer } from './support/jot-server.js';
import { metricSample } from './support/metrics.js';
import { BUDGET, newEmail } from './support/password-checks.js';
import { linkIn, tokenIn, type TestSmtp } from './support/smtp.js';
import { proofProbes, startLinkProofServer, type LinkProofServer } from './support/link-proof.js';
import { serverBackends } from './support/store-backends.js';

const backends = await serverBackends('email-change-confirmation-proves-the-requester');

describe.each(backends)('the email-change confirmation proves who asked for it ($name)', (backend) => {
  let fixture: LinkProofServer;
  let smtp: TestSmtp;
  let server: TestServer;
  let admin: string;

  beforeAll(async () => {
    fixture = await startLinkProofServer(backend, 'jot-change-proof-');
    ({ smtp, server, admin } = fixture);
  });
  afterAll(async () => {
    await fixture?.close();
  });

  /** The token of the email-change link mailed to `next`. */
  async function changeLinkTo(session: string, next: string): Promise<string> {
    const asked = await server.request('POST', '/api/email/change', {
      token: session,
      body: { new_email: next },
    });
    expect(asked.status, asked.text).toBe(202);
    const mail = await smtp.waitFor((m) => m.to.includes(next) && /confirm your new email/i.test(m.subject));
    return tokenIn(linkIn(mail));
  }

  /** An account (verified or not) that asked to move to a fresh address, and the link mailed there. */
  async function moving(what: string, verified = false) {
    const email = newEmail(what);
    const session = await (verified ? signUpVerified : signUp)(server, email, PASSWORD);
    const next = newEmail(`${what}-new`);
    return { email, next, ...session, token: await changeLinkTo(session.access_token, next) };
  }

  const confirm = (body: Record<string, unknown>, token?: string): Promise<TestResponse> =>
    server.request('POST', '/api/email/change/confirm', { body, token });
  const emailOf = async (userId: string) => (await server.app.jot.store.getUserById(userId))?.email;
  const { eventsOf, throttleRow, answer } = proofProbes(() => server);

  it("the squatter story: the victim's click alone does not give the squatter's account the victim's address", async () => {
    // The squatter registers with an address of their own and asks to move the account to the victim's.
    const { email, next: victim, userId, token } = await moving('squatter');

    const clicked = await confirm({ token });
    expect(answer(clicked)).toEqual({ status: 400, code: 'ERR_PASSWORD_REQUIRED' });
    expect(clicked.body.error_description).toContain('if you did not ask for this change, ignore the link');
    expect(await emailOf(userId)).toBe(email);
    expect(await server.app.jot.store.getUserByEmail(victim)).toBeUndefined();
    expect(await eventsOf(userId, 'email_changed')).toEqual([]);
    expect(await throttleRow(email)).toBeUndefined();

    // The refusal did not spend the link: the one who asked still confirms with the account's password.
    const done = await confirm({ token, password: PASSWORD });
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ email: victim, email_verified: true });
    const changed = await eventsOf(userId, 'email_changed');
    expect(changed.map((e) => e.detail)).toEqual([{ proof: 'password' }]);
  });

  it('the confirmation mail says the password will be asked unless signed in, and that one who did not ask ignores it', async () => {
    const { next } = await moving('mail-reader');
    const mail = await smtp.waitFor((m) => m.to.includes(next) && /confirm your new email/i.test(m.subject));
    for (const body of [mail.text, mail.html]) {
      expect(body).toContain("You will be asked for the account's password, unless you are signed in to it.");
      expect(body).toContain("Didn't ask for this? Ignore this message");
    }
  });

  it('applies to an account whose address is verified too: the proof is of who asked, not of the address', async () => {
    const { email, userId, token } = await moving('verified-mover', true);
    expect(answer(await confirm({ token }))).toEqual({ status: 400, code: 'ERR_PASSWORD_REQUIRED' });
    expect(await emailOf(userId)).toBe(email);
  });

  it('a signed-in confirmation needs no password; a session of another account counts for nothing', async () => {
    const { next, userId, access_token: session, token } = await moving('signed-in-mover');
    const other = await signUp(server, newEmail('bystander'), PASSWORD);
    expect(answer(await confirm({ token }, other.access_token))).toEqual({
      status: 400,
      code: 'ERR_PASSWORD_REQUIRED',
    });

    const done = await confirm({ token }, session);
    expect(done.status, done.text).toBe(200);
    expect(done.body).toMatchObject({ email: next, email_verified: true });
    const changed = await eventsOf(userId, 'email_changed');
    expect(changed.map((e) => e.detail)).toEqual([{ proof: 'session' }]);
  });

  it('a wrong password is a failed sign-in (via email_change), counted and locking; the link is not spent', async () => {
    const { email, userId, access_token: session, token } = await moving('guessed-mover');
    const before = metricSample(await metricsText(), 'jot_password_check_failures_total', {
      via: 'email_change',
      reason: 'wrong',
    });

    const wrong = await confirm({ token, password: 'not the password' });
    expect({ ...answer(wrong), error: wrong.body.error }).toEqual({
      status: 401,
      code: 'ERR_INVALID_CREDENTIALS',
      error: 'invalid_grant',
    });
    expect(await throttleRow(email)).toMatchObject({ failures: 1 });
    const failed = await eventsOf(userId, 'login_failed');
    expect(failed.map((e) => e.detail)).toEqual([{ via: 'email_change' }]);
    expect(JSON.stringify(failed)).not.toContain('not the password');
    const after = metricSample(await metricsText(), 'jot_password_check_failures_total', {
      via: 'email_change',
      reason: 'wrong',
    });
    expect(after).toBe((before ?? 0) + 1);

    for (let i = 1; i < BUDGET; i++) await confirm({ token, password: `wrong guess ${i}` });
    expectLocked(await confirm({ token, password: PASSWORD }));
    expect(await emailOf(userId)).toBe(email);
    const locked = await eventsOf(userId, 'account_locked');
    expect(locked.map((e) => e.detail)).toEqual([{ seconds: 30, via: 'email_change' }]);

    // No guess spent the link: the account's session still confirms it.
    const done = await confirm({ token }, session);
    expect(done.status, done.text).toBe(200);
  });

  it('a spent or voided link answers ERR_LINK_USED without evaluating or counting the password sent with it', async () => {
    const { email, userId, token } = await moving('voided-mover');
    await server.app.jot.store.voidOneTimeTokens(userId, ['email_change']);
    const res = await confirm({ token, password: 'not the password' });
    expect(answer(res)).toEqual({ status: 400, code: 'ERR_LINK_USED' });
    expect(await throttleRow(email)).toBeUndefined();
    expect(await eventsOf(userId, 'login_failed')).toEqual([]);
  });

  it('an invalid link, or a link of another kind, sent with a password counts nothing', async () => {
    const { email, userId, token } = await moving('forged-mover');
    const forged = await confirm({ token: `${token.slice(0, -4)}AAAA`, password: 'not the password' });
    expect(answer(forged)).toEqual({ status: 400, code: 'ERR_LINK_INVALID' });
    const reset = await server.request('POST', '/api/password/forgot', { body: { email } });
    expect(reset.status).toBe(202);
    const resetMail = await smtp.waitFor((m) => m.to.includes(email) && /reset/i.test(m.subject));
    const otherKind = await confirm({ token: tokenIn(linkIn(resetMail)), password: 'not the password' });
    expect(answer(otherKind)).toEqual({ status: 400, code: 'ERR_LINK_INVALID' });
    expect(await throttleRow(email)).toBeUndefined();
    expect(await eventsOf(userId, 'login_failed')).toEqual([]);
  });

  it('a disabled account: the link died with the disable, refused before any password is looked at', async () => {
    const { email, userId, token } = await moving('disabled-mover');
    const disabled = await server.request('POST', `/api/admin/users/${userId}/disable`, { token: admin });
    expect(disabled.status, disabled.text).toBe(200);
    const res = await confirm({ token, password: 'not the password' });
    expect(answer(res)).toEqual({ status: 400, code: 'ERR_LINK_USED' });
    expect(await throttleRow(email)).toBeUndefined();
    expect(await eventsOf(userId, 'login_failed')).toEqual([]);
    expect(await emailOf(userId)).toBe(email);
  });

  async function metricsText(): Promise<string> {
    const res = await server.request('GET', '/metrics');
    expect(res.status).toBe(200);
    return res.text;
  }
});
