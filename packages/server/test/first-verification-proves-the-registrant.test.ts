/**
 * The first verification of a never-verified address takes proof that whoever follows the link registered the
 * account (services/registrant-proof.ts), on SQLite and on PostgreSQL. Before, following the link was enough: someone
 * who registered another person's address with a password of their own (a squatter) got a *verified* account the
 * moment its owner clicked the link in the sign-up mail — and other applications trusting `email_verified` believed
 * it. Now the link takes the account's password (or a session of the account): without it 400
 * `ERR_PASSWORD_REQUIRED`, a wrong one 401 `ERR_INVALID_CREDENTIALS` as at sign-in, counted on the account's sign-in
 * lock and recorded with `via: "email_verification"`; the link is spent by neither. An address verified before asks
 * for nothing more; the email-change confirmation asks for the same proof (its own suite:
 * email-change-confirmation-proves-the-requester.test.ts).
 *
 * The link is judged before the proof, so a link is no password oracle: a dead link (not valid, expired, of another
 * kind, for an address the account no longer has, spent or voided) and a disabled account (403
 * `ERR_USER_DISABLED`) are refused without a password being evaluated or counted, and the session is judged only for
 * a live link (a DPoP proof sent with a dead one is not spent). A refused credential counts as none, but a DPoP
 * session sent without the server's nonce gets the nonce refusal (`use_dpop_nonce`, `DPoP-Nonce`) to retry with.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { PASSWORD, expectLocked, signIn } from './support/devices.js';
import { dpopClient, type DPoPClient } from './support/dpop.js';
import {
  followVerificationLink,
  signUp,
  startServer,
  verifyAddressOf,
  type TestResponse,
  type TestServer,
} from './support/jot-server.js';
import { BUDGET, newEmail } from './support/password-checks.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';
import { proofProbes, startLinkProofServer, type LinkProofServer } from './support/link-proof.js';
import { serverBackends } from './support/store-backends.js';

const backends = await serverBackends('first-verification-proves-the-registrant');

describe.each(backends)(
  'the first verification of an address proves who registered it ($name)',
  (backend) => {
    let fixture: LinkProofServer;
    let smtp: TestSmtp;
    let server: TestServer;
    let admin: string;
    /** How far the server's clock runs ahead (an expired link). */
    let skew = 0;

    beforeAll(async () => {
      fixture = await startLinkProofServer(backend, 'jot-registrant-', () => Date.now() + skew);
      ({ smtp, server, admin } = fixture);
    });
    afterAll(async () => {
      await fixture?.close();
    });

    /** The token of the verification link mailed to `email` (its first). */
    async function verificationToken(email: string): Promise<string> {
      const mail = await smtp.waitFor((m) => m.to.includes(email) && /confirm your email/i.test(m.subject));
      return tokenIn(linkIn(mail));
    }

    /** A self-registered, never-verified account and its verification link. */
    async function registered(what: string) {
      const email = newEmail(what);
      const session = await signUp(server, email, PASSWORD);
      return { email, ...session, token: await verificationToken(email) };
    }

    const verify = (body: Record<string, unknown>, token?: string): Promise<TestResponse> =>
      server.request('POST', '/api/email/verify', { body, token });
    const verifiedAt = async (userId: string) =>
      (await server.app.jot.store.getUserById(userId))?.emailVerifiedAt;
    const { eventsOf, throttleRow, answer, noPasswordChecked } = proofProbes(() => server);

    it('without a password: 400 ERR_PASSWORD_REQUIRED, saying how to take the account over; nothing counted, the link not spent', async () => {
      const { email, userId, token } = await registered('no-password');

      const res = await verify({ token });
      expect({ status: res.status, code: res.body.code }).toEqual({
        status: 400,
        code: 'ERR_PASSWORD_REQUIRED',
      });
      expect(res.body.error_description).toContain("enter this account's password");
      expect(res.body.error_description).toContain("'forgot password'");
      expect(await verifiedAt(userId)).toBeNull();
      expect(await throttleRow(email)).toBeUndefined();
      expect(await eventsOf(userId, 'login_failed')).toEqual([]);

      const done = await followVerificationLink(server, token, PASSWORD);
      expect(done.status, done.text).toBe(200);
      expect(done.body).toMatchObject({ email, email_verified: true });
      const verified = await eventsOf(userId, 'email_verified');
      expect(verified.map((e) => e.detail)).toEqual([{ proof: 'password' }]);
    });

    it('a wrong password is refused as at sign-in, counted and recorded as a failed sign-in (via email_verification); the link is not spent', async () => {
      const { email, userId, token } = await registered('wrong-password');
      const wrongSignIn = await signIn(server, newEmail('nobody'), 'not the password');

      const res = await verify({ token, password: 'not the password' });
      const answer = (r: TestResponse) => ({ status: r.status, error: r.body.error, code: r.body.code });
      expect(answer(res)).toEqual(answer(wrongSignIn));
      expect(answer(res)).toEqual({ status: 401, error: 'invalid_grant', code: 'ERR_INVALID_CREDENTIALS' });
      expect(await verifiedAt(userId)).toBeNull();
      expect(await throttleRow(email)).toMatchObject({ failures: 1 });
      const failed = await eventsOf(userId, 'login_failed');
      expect(failed.map((e) => e.detail)).toEqual([{ via: 'email_verification' }]);
      expect(JSON.stringify(failed)).not.toContain('not the password');

      // The link still works, and the right password forgets the count as a sign-in does.
      const done = await followVerificationLink(server, token, PASSWORD);
      expect(done.status, done.text).toBe(200);
      expect(await throttleRow(email)).toBeUndefined();
    });

    it('wrong passwords lock the account like failed sign-ins: the right password is then refused there and at sign-in', async () => {
      const { email, userId, access_token: session, token } = await registered('guessed');
      for (let i = 0; i < BUDGET; i++) {
        const res = await verify({ token, password: `wrong guess ${i}` });
        expect({ status: res.status, code: res.body.code }).toEqual({
          status: 401,
          code: 'ERR_INVALID_CREDENTIALS',
        });
      }
      expectLocked(await verify({ token, password: PASSWORD }));
      expectLocked(await signIn(server, email, PASSWORD));
      expect(await verifiedAt(userId)).toBeNull();

      const locked = await eventsOf(userId, 'account_locked');
      expect(locked.map((e) => e.detail)).toEqual([{ seconds: 30, via: 'email_verification' }]);
      const refused = await eventsOf(userId, 'rate_limited');
      expect(refused.map((e) => e.detail)).toEqual([{ limit: 'login_account', via: 'email_verification' }]);

      // No guess spent the link: the account's own session (no password check) still confirms with it.
      const done = await verify({ token }, session);
      expect(done.status, done.text).toBe(200);
    });

    it('an account locked by failed sign-ins refuses the password here too, without evaluating it', async () => {
      const { email, userId, token } = await registered('locked-first');
      for (let i = 0; i < BUDGET; i++)
        expect((await signIn(server, email, `wrong guess ${i}`)).status).toBe(401);
      expectLocked(await verify({ token, password: PASSWORD }));
      expect(await verifiedAt(userId)).toBeNull();
    });

    it('a session of the account needs no password; a session of another account counts for nothing', async () => {
      const { userId, access_token: session, token } = await registered('signed-in');
      const other = await signUp(server, newEmail('someone-else'), PASSWORD);

      const elsewhere = await verify({ token }, other.access_token);
      expect(elsewhere.body.code).toBe('ERR_PASSWORD_REQUIRED');
      // A refused credential counts as none: the password is asked, no token error.
      const stale = await verify({ token }, `${session.slice(0, -4)}AAAA`);
      expect(stale.body.code).toBe('ERR_PASSWORD_REQUIRED');

      const done = await verify({ token }, session);
      expect(done.status, done.text).toBe(200);
      expect(done.body.email_verified).toBe(true);
      const verified = await eventsOf(userId, 'email_verified');
      expect(verified.map((e) => e.detail)).toEqual([{ proof: 'session' }]);
    });

    it('an address verified already asks for nothing more: a link still open then verifies without a password', async () => {
      const { userId, token } = await registered('verified-before');
      // Marked verified in the store, as an admin vouching for it does but without spending the open links.
      await verifyAddressOf(server, userId);
      const done = await verify({ token });
      expect(done.status, done.text).toBe(200);
      const verified = await eventsOf(userId, 'email_verified');
      expect(verified.map((e) => e.detail)).toEqual([{}]);
    });

    it('a dead link sent with a password — not valid, expired, of another kind, voided — is refused before the password is looked at', async () => {
      const { email, userId, token } = await registered('dead-links');
      const wrong = 'not the password';

      const forged = await verify({ token: `${token.slice(0, -4)}AAAA`, password: wrong });
      expect(answer(forged)).toEqual({ status: 400, code: 'ERR_LINK_INVALID' });

      skew = 25 * 60 * 60 * 1000; // the link lives 24 h (JOT_EMAIL_VERIFICATION_TTL)
      const expired = await verify({ token, password: wrong }).finally(() => {
        skew = 0;
      });
      expect(answer(expired)).toEqual({ status: 400, code: 'ERR_LINK_EXPIRED' });

      const forgot = await server.request('POST', '/api/password/forgot', { body: { email } });
      expect(forgot.status).toBe(202);
      const reset = await smtp.waitFor((m) => m.to.includes(email) && /reset your password/i.test(m.subject));
      const otherKind = await verify({ token: tokenIn(linkIn(reset)), password: wrong });
      expect(answer(otherKind)).toEqual({ status: 400, code: 'ERR_LINK_INVALID' });

      // Spent as a use would spend it (what a confirmed change of address does to the account's open links).
      await server.app.jot.store.voidOneTimeTokens(userId, ['email_verification']);
      const voided = await verify({ token, password: wrong });
      expect(answer(voided)).toEqual({ status: 400, code: 'ERR_LINK_USED' });

      await noPasswordChecked(email, userId);
      expect(await verifiedAt(userId)).toBeNull();
    });

    it('a link for an address the account no longer has, sent with a password, counts nothing', async () => {
      const { email, userId, access_token: session, token } = await registered('moved-away');
      const next = newEmail('moved-away-new');
      const asked = await server.request('POST', '/api/email/change', {
        token: session,
        body: { new_email: next },
      });
      expect(asked.status, asked.text).toBe(202);
      const mail = await smtp.waitFor(
        (m) => m.to.includes(next) && /confirm your new email/i.test(m.subject),
      );
      const moved = await server.request('POST', '/api/email/change/confirm', {
        token: session,
        body: { token: tokenIn(linkIn(mail)) },
      });
      expect(moved.status, moved.text).toBe(200);

      const res = await verify({ token, password: 'not the password' });
      expect(answer(res)).toEqual({ status: 400, code: 'ERR_LINK_USED' });
      await noPasswordChecked(email, userId);
      expect(await throttleRow(next)).toBeUndefined();
    });

    it('a disabled account is refused with 403 ERR_USER_DISABLED before any password is looked at', async () => {
      const { email, userId, token } = await registered('disabled');
      const disabled = await server.request('POST', `/api/admin/users/${userId}/disable`, { token: admin });
      expect(disabled.status, disabled.text).toBe(200);

      const res = await verify({ token, password: 'not the password' });
      expect(answer(res)).toEqual({ status: 403, code: 'ERR_USER_DISABLED' });
      await noPasswordChecked(email, userId);
      expect(await verifiedAt(userId)).toBeNull();
      // With the right password too: a disabled account's address is not verified.
      expect(answer(await verify({ token, password: PASSWORD }))).toEqual({
        status: 403,
        code: 'ERR_USER_DISABLED',
      });
      expect(await verifiedAt(userId)).toBeNull();
    });

    it('a refused credential counts as none — a cookie without its X-Csrf-Token, a DPoP-bound token as Bearer, a revoked token: the password is asked', async () => {
      const { email, userId, token } = await registered('refused-credentials');

      const cookieLogin = await signIn(server, email, PASSWORD, { body: { delivery: 'cookie' } });
      expect(cookieLogin.status, cookieLogin.text).toBe(200);
      const jar = cookieLogin.headers
        .getSetCookie()
        .map((line) => line.split(';')[0])
        .join('; ');
      const withCookie = (headers: Record<string, string>) =>
        server.request('POST', '/api/email/verify', {
          body: { token },
          headers: { cookie: jar, ...headers },
        });
      expect(answer(await withCookie({}))).toEqual({ status: 400, code: 'ERR_PASSWORD_REQUIRED' });

      const client = dpopClient(server);
      const bound = await client.request('POST', '/api/login', { body: { email, password: PASSWORD } });
      expect(bound.body.token_type, bound.text).toBe('DPoP');
      const asBearer = await verify({ token }, bound.body.access_token as string);
      expect(answer(asBearer)).toEqual({ status: 400, code: 'ERR_PASSWORD_REQUIRED' });

      const ended = await signIn(server, email, PASSWORD);
      const logout = await server.request('POST', '/api/logout', {
        token: ended.body.access_token as string,
      });
      expect(logout.status).toBe(204);
      const revoked = await verify({ token }, ended.body.access_token as string);
      expect(answer(revoked)).toEqual({ status: 400, code: 'ERR_PASSWORD_REQUIRED' });
      expect(await verifiedAt(userId)).toBeNull();

      // The same cookie with its header is a session of the account: no password asked.
      const done = await withCookie({ 'x-csrf-token': cookieLogin.body.csrf_token as string });
      expect(done.status, done.text).toBe(200);
      const verified = await eventsOf(userId, 'email_verified');
      expect(verified.map((e) => e.detail)).toEqual([{ proof: 'session' }]);
    });

    it('the session is judged only once the link is known to be live: a DPoP proof sent with a dead link is not spent', async () => {
      const { email, userId, token } = await registered('lazy-session');
      const client = dpopClient(server);
      const login = await client.request('POST', '/api/login', { body: { email, password: PASSWORD } });
      expect(login.status, login.text).toBe(200);
      const access = login.body.access_token as string;
      // One proof for both requests: judging the session of the first would have spent its `jti`.
      const proof = client.proof('POST', '/api/email/verify', { accessToken: access });
      const send = (link: string) =>
        client.request('POST', '/api/email/verify', {
          token: access,
          body: { token: link },
          proof: { raw: proof },
        });

      expect(answer(await send(`${token.slice(0, -4)}AAAA`))).toEqual({
        status: 400,
        code: 'ERR_LINK_INVALID',
      });
      const done = await send(token);
      expect(done.status, done.text).toBe(200);
      const verified = await eventsOf(userId, 'email_verified');
      expect(verified.map((e) => e.detail)).toEqual([{ proof: 'session' }]);
    });

    it('the email-change confirmation takes the same proof, even for an account never verified: the password, or a session', async () => {
      const { email, userId, access_token: session } = await registered('moves');
      const changeLink = async (next: string): Promise<string> => {
        const asked = await server.request('POST', '/api/email/change', {
          token: session,
          body: { new_email: next },
        });
        expect(asked.status, asked.text).toBe(202);
        const mail = await smtp.waitFor(
          (m) => m.to.includes(next) && /confirm your new email/i.test(m.subject),
        );
        return tokenIn(linkIn(mail));
      };
      const next = newEmail('moved');
      const token = await changeLink(next);
      const confirm = (body: Record<string, unknown>, access?: string) =>
        server.request('POST', '/api/email/change/confirm', { body, token: access });

      // The new address's owner clicking alone does not move the account there.
      const clicked = await confirm({ token });
      expect({ status: clicked.status, code: clicked.body.code }).toEqual({
        status: 400,
        code: 'ERR_PASSWORD_REQUIRED',
      });
      expect((await server.app.jot.store.getUserById(userId))?.email).toBe(email);

      // Signed in to the account, no password is asked.
      const done = await confirm({ token }, session);
      expect(done.status, done.text).toBe(200);
      expect(done.body).toMatchObject({ email: next, email_verified: true });
      expect(await verifiedAt(userId)).not.toBeNull();
    });
  },
);

describe('with server DPoP nonces (JOT_DPOP_NONCE), a DPoP session sent without the nonce is asked for one', () => {
  let smtp: TestSmtp;
  let server: TestServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    server = await startServer({
      smtpUrl: smtp.url,
      publicUrl: 'http://ui.test',
      mailRetryBase: '1s',
      rateLimitMail: '100/15m',
      dpopNonce: true,
    });
    await signUp(server, newEmail('first-admin'));
  });
  afterAll(async () => {
    await server?.close();
    await smtp?.stop();
  });

  /** A DPoP sign-in (retried with the nonce the first answer asks for): the access token and a nonce. */
  async function dpopSignIn(client: DPoPClient, email: string): Promise<{ access: string; nonce: string }> {
    const body = { email, password: PASSWORD };
    const first = await client.request('POST', '/api/login', { body });
    const asked = first.headers.get('dpop-nonce');
    const login =
      first.status === 200
        ? first
        : await client.request('POST', '/api/login', { body, proof: { nonce: asked! } });
    expect(login.status, login.text).toBe(200);
    return { access: login.body.access_token as string, nonce: login.headers.get('dpop-nonce') ?? asked! };
  }

  /** The link's answer without the nonce is the nonce refusal (to retry with); with the nonce, it confirms. */
  async function expectNonceAsked(client: DPoPClient, path: string, access: string, token: string) {
    const refused = await client.request('POST', path, { token: access, body: { token } });
    expect(refused.status, refused.text).toBe(401);
    expect(refused.body).toMatchObject({ error: 'use_dpop_nonce', code: 'ERR_DPOP_NONCE_REQUIRED' });
    expect(refused.headers.get('www-authenticate')).toMatch(/^DPoP error="use_dpop_nonce"/);
    const nonce = refused.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const done = await client.request('POST', path, {
      token: access,
      body: { token },
      proof: { nonce: nonce! },
    });
    expect(done.status, done.text).toBe(200);
    return done;
  }

  it('POST /api/email/verify and POST /api/email/change/confirm answer use_dpop_nonce with DPoP-Nonce, and the retry confirms', async () => {
    const email = newEmail('nonce');
    const { userId } = await signUp(server, email, PASSWORD);
    const mail = await smtp.waitFor((m) => m.to.includes(email) && /confirm your email/i.test(m.subject));
    const client = dpopClient(server);
    const { access, nonce } = await dpopSignIn(client, email);

    const verified = await expectNonceAsked(client, '/api/email/verify', access, tokenIn(linkIn(mail)));
    expect(verified.body).toMatchObject({ email, email_verified: true });

    const next = newEmail('nonce-new');
    const asked = await client.request('POST', '/api/email/change', {
      token: access,
      body: { new_email: next },
      proof: { nonce },
    });
    expect(asked.status, asked.text).toBe(202);
    const change = await smtp.waitFor(
      (m) => m.to.includes(next) && /confirm your new email/i.test(m.subject),
    );
    const moved = await expectNonceAsked(
      client,
      '/api/email/change/confirm',
      access,
      tokenIn(linkIn(change)),
    );
    expect(moved.body).toMatchObject({ email: next, email_verified: true });
    expect((await server.app.jot.store.getUserById(userId))?.email).toBe(next);
  });
});
