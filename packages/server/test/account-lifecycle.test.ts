/**
 * The account lifecycle over HTTP, with every link read from the message a real SMTP server received: one-time
 * tokens of distinct kinds that never pass for each other or for access tokens, forgotten passwords, email
 * verification policies, invitations, email change, and account deletion by the user and by an admin.
 */
import { decodeUnverified } from '@jot/jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  followEmailChangeLink,
  followVerificationLink,
  signUp,
  startServer,
  type TestServer,
} from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type ReceivedMail, type TestSmtp } from './support/smtp.js';

let smtp: TestSmtp;
let server: TestServer;
let admin: Awaited<ReturnType<typeof signUp>>;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer({
    smtpUrl: smtp.url,
    publicUrl: 'http://ui.test',
    mailRetryBase: '1s',
    rateLimitMail: '3/15m',
  });
  admin = await signUp(server, 'admin@example.com');
});
afterAll(async () => {
  await server.close();
  await smtp.stop();
});

const mailTo = (address: string, subject: RegExp, after = 0): Promise<ReceivedMail> =>
  smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject) && smtp.messages.indexOf(m) >= after);

async function forgot(email: string) {
  const started = performance.now();
  const res = await server.request('POST', '/api/password/forgot', { body: { email } });
  return { res, ms: performance.now() - started };
}

describe('one-time tokens', () => {
  it('each kind has its own typ and audience, and none is accepted as an access token or as another kind', async () => {
    const user = await signUp(server, 'kinds@example.com');
    const verifyMail = await mailTo('kinds@example.com', /confirm your email/i);
    await forgot('kinds@example.com');
    const resetMail = await mailTo('kinds@example.com', /reset your password/i);
    const verifyToken = tokenIn(linkIn(verifyMail));
    const resetToken = tokenIn(linkIn(resetMail));
    const v = decodeUnverified(verifyToken);
    const r = decodeUnverified(resetToken);
    expect(v.header).toMatchObject({ typ: 'verify-email+jwt', alg: 'HS256' });
    expect(r.header).toMatchObject({ typ: 'password-reset+jwt', alg: 'HS256' });
    expect(v.payload).toMatchObject({ aud: 'http://jot.test/api/email/verify', sub: user.userId });
    expect(r.payload).toMatchObject({ aud: 'http://jot.test/api/password/reset', sub: user.userId });
    expect(Number(r.payload.exp) - Number(r.payload.iat)).toBe(15 * 60);

    // A reset token is no access token, and an access token is no reset or verification token.
    expect((await server.request('GET', '/api/whoami', { token: resetToken })).status).toBe(401);
    const asReset = await server.request('POST', '/api/password/reset', {
      body: { token: user.access_token, new_password: 'a fine new passphrase' },
    });
    expect(asReset.body.code).toBe('ERR_LINK_INVALID');
    const crossed = await server.request('POST', '/api/email/verify', { body: { token: resetToken } });
    expect(crossed.body.code).toBe('ERR_LINK_INVALID');
    const tampered = await server.request('POST', '/api/email/verify', {
      body: { token: verifyToken.slice(0, -2) + (verifyToken.endsWith('AA') ? 'BB' : 'AA') },
    });
    expect(tampered.body.code).toBe('ERR_LINK_INVALID');
    // The verification link works exactly once, even when two requests race for it.
    const [a, b] = await Promise.all([0, 1].map(() => followVerificationLink(server, verifyToken)));
    expect([a!.status, b!.status].sort()).toEqual([200, 400]);
  });

  it('a reset link dies once the password changes by other means', async () => {
    const user = await signUp(server, 'bound@example.com');
    await forgot('bound@example.com');
    const token = tokenIn(linkIn(await mailTo('bound@example.com', /reset your password/i)));
    const change = await server.request('POST', '/api/password', {
      token: user.access_token,
      body: { current_password: 'correct horse battery', new_password: 'another good passphrase' },
    });
    expect(change.status).toBe(200);
    const res = await server.request('POST', '/api/password/reset', {
      body: { token, new_password: 'attacker chosen phrase' },
    });
    expect(res.body.code).toBe('ERR_LINK_USED');
  });
});

describe('POST /api/password/reset', () => {
  it('refuses a 1,025-character new password as ERR_WEAK_PASSWORD (as registration does); the link still works', async () => {
    await signUp(server, 'long-reset@example.com');
    await forgot('long-reset@example.com');
    const token = tokenIn(linkIn(await mailTo('long-reset@example.com', /reset your password/i)));
    const long = await server.request('POST', '/api/password/reset', {
      body: { token, new_password: 'a fine new passphrase '.repeat(50).slice(0, 1025) },
    });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('ERR_WEAK_PASSWORD');
    const res = await server.request('POST', '/api/password/reset', {
      body: { token, new_password: 'a fine new passphrase '.repeat(50).slice(0, 1024) },
    });
    expect(res.status).toBe(200);
  });
});

describe('POST /api/password/forgot', () => {
  it('answers the same, after the same floor, whether or not the account exists', async () => {
    await signUp(server, 'exists@example.com');
    const known = await forgot('exists@example.com');
    const unknown = await forgot('nobody-here@example.com');
    expect(known.res.status).toBe(202);
    expect(unknown.res.status).toBe(202);
    expect(unknown.res.body).toEqual(known.res.body);
    expect(known.ms).toBeGreaterThanOrEqual(390);
    expect(unknown.ms).toBeGreaterThanOrEqual(390);
    expect(smtp.messages.some((m) => m.to.includes('nobody-here@example.com'))).toBe(false);
  });

  it('is limited per address, the same way for unknown addresses', async () => {
    for (const email of ['limited@example.com', 'ghost@example.com']) {
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await forgot(email)).res.status);
      expect(statuses).toEqual([202, 202, 202, 429]);
    }
  });
});

describe('email verification', () => {
  it('optional: access tokens carry email_verified, which turns true after the link', async () => {
    const user = await signUp(server, 'verify-me@example.com');
    const who = await server.request('GET', '/api/whoami', { token: user.access_token });
    expect(who.body.claims.email_verified).toBe(false);
    expect(who.body.user.email_verified).toBe(false);
    const token = tokenIn(linkIn(await mailTo('verify-me@example.com', /confirm your email/i)));
    expect((await followVerificationLink(server, token)).body.email_verified).toBe(true);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'verify-me@example.com', password: 'correct horse battery' },
    });
    expect(decodeUnverified(login.body.access_token).payload.email_verified).toBe(true);
  });

  it('required: an unverified account cannot sign in, is told how to get a new link, and can after verifying', async () => {
    const strict = await startServer({
      smtpUrl: smtp.url,
      emailVerification: 'required',
      mailRetryBase: '1s',
    });
    try {
      const reg = await strict.request('POST', '/api/register', {
        body: { email: 'strict@example.com', password: 'correct horse battery' },
      });
      expect(reg.status).toBe(201);
      const first = smtp.messages.length;
      const login = () =>
        strict.request('POST', '/api/login', {
          body: { email: 'strict@example.com', password: 'correct horse battery' },
        });
      const refused = await login();
      expect(refused.status).toBe(403);
      expect(refused.body.code).toBe('ERR_EMAIL_NOT_VERIFIED');
      expect(refused.body.error_description).toContain('/api/email/verification');
      // A wrong password still says only "invalid credentials".
      const wrong = await strict.request('POST', '/api/login', {
        body: { email: 'strict@example.com', password: 'wrong password!' },
      });
      expect(wrong.body.code).toBe('ERR_INVALID_CREDENTIALS');
      const resend = await strict.request('POST', '/api/email/verification', {
        body: { email: 'strict@example.com' },
      });
      expect(resend.status).toBe(202);
      const mail = await mailTo('strict@example.com', /confirm your email/i, first);
      expect((await followVerificationLink(strict, tokenIn(linkIn(mail)))).status).toBe(200);
      expect((await login()).status).toBe(200);
    } finally {
      await strict.close();
    }
  });

  it('off: no verification message is sent', async () => {
    const off = await startServer({ smtpUrl: smtp.url, emailVerification: 'off' });
    try {
      await signUp(off, 'quiet@example.com');
      const rows = await off.app.jot.store.listOutbox({ limit: 10 });
      expect(rows).toEqual([]);
      expect(
        (await off.request('POST', '/api/email/verification', { body: { email: 'quiet@example.com' } }))
          .status,
      ).toBe(404);
    } finally {
      await off.close();
    }
  });
});

describe('invitations', () => {
  it('an admin invites an address with roles; the link sets a password once and the account has those roles', async () => {
    const res = await server.request('POST', '/api/admin/invitations', {
      token: admin.access_token,
      body: { email: 'Invitee@Example.com', roles: ['editor'] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ email: 'invitee@example.com', roles: ['editor'] });
    const list = await server.request('GET', '/api/admin/invitations', { token: admin.access_token });
    expect(list.body.invitations.map((i: { id: string }) => i.id)).toContain(res.body.id);
    const link = linkIn(await mailTo('invitee@example.com', /invited/i));
    expect(link).toMatch(/^http:\/\/ui\.test\/#\/accept-invitation\?token=/);
    const weak = await server.request('POST', '/api/invitations/accept', {
      body: { token: tokenIn(link), password: 'short' },
    });
    expect(weak.body.code).toBe('ERR_WEAK_PASSWORD');
    // Too long is the policy's answer too (the schema does not cap a password being chosen), and spends no link.
    const long = await server.request('POST', '/api/invitations/accept', {
      body: { token: tokenIn(link), password: 'invited and happy '.repeat(60).slice(0, 1025) },
    });
    expect(long.status).toBe(400);
    expect(long.body.code).toBe('ERR_WEAK_PASSWORD');
    const accept = await server.request('POST', '/api/invitations/accept', {
      body: { token: tokenIn(link), password: 'invited and happy', name: 'Invitee' },
    });
    expect(accept.status).toBe(201);
    expect(accept.body).toMatchObject({
      email: 'invitee@example.com',
      roles: ['editor'],
      email_verified: true,
    });
    const again = await server.request('POST', '/api/invitations/accept', {
      body: { token: tokenIn(link), password: 'invited and happy' },
    });
    expect(again.body.code).toBe('ERR_LINK_USED');
    const login = await server.request('POST', '/api/login', {
      body: { email: 'invitee@example.com', password: 'invited and happy' },
    });
    expect(login.status).toBe(200);
  });

  it('a revoked invitation no longer works; inviting an existing account is refused', async () => {
    const res = await server.request('POST', '/api/admin/invitations', {
      token: admin.access_token,
      body: { email: 'revoked@example.com' },
    });
    const link = linkIn(await mailTo('revoked@example.com', /invited/i));
    const revoke = await server.request('DELETE', `/api/admin/invitations/${res.body.id}`, {
      token: admin.access_token,
    });
    expect(revoke.status).toBe(200);
    const accept = await server.request('POST', '/api/invitations/accept', {
      body: { token: tokenIn(link), password: 'too late for this' },
    });
    expect(accept.body.code).toBe('ERR_LINK_USED');
    const taken = await server.request('POST', '/api/admin/invitations', {
      token: admin.access_token,
      body: { email: 'admin@example.com' },
    });
    expect(taken.body.code).toBe('ERR_EMAIL_TAKEN');
  });

  it('JOT_REGISTRATION=invite: registration is refused, an invitation still makes an account', async () => {
    const closed = await startServer({
      smtpUrl: smtp.url,
      registration: 'invite',
      adminEmail: 'root@example.com',
      adminPassword: 'correct horse battery',
    });
    try {
      const { ensureBootstrapAdmin } = await import('@jot/server');
      await ensureBootstrapAdmin(closed.app);
      const reg = await closed.request('POST', '/api/register', {
        body: { email: 'walk-in@example.com', password: 'correct horse battery' },
      });
      expect(reg.status).toBe(403);
      expect(reg.body.code).toBe('ERR_REGISTRATION_INVITE_ONLY');
      const root = await closed.request('POST', '/api/login', {
        body: { email: 'root@example.com', password: 'correct horse battery' },
      });
      const invite = await closed.request('POST', '/api/admin/invitations', {
        token: root.body.access_token,
        body: { email: 'walk-in@example.com' },
      });
      expect(invite.status).toBe(201);
      const link = linkIn(await mailTo('walk-in@example.com', /invited/i));
      const accept = await closed.request('POST', '/api/invitations/accept', {
        body: { token: tokenIn(link), password: 'invited after all' },
      });
      expect(accept.status).toBe(201);
    } finally {
      await closed.close();
    }
  });

  it('is for admins only', async () => {
    const user = await signUp(server, 'not-admin@example.com');
    const res = await server.request('POST', '/api/admin/invitations', {
      token: user.access_token,
      body: { email: 'x@example.com' },
    });
    expect(res.status).toBe(403);
  });
});

describe('profile and email change', () => {
  it('updates the name; changes the email only after the new address confirms, telling the old one', async () => {
    const user = await signUp(server, 'old@example.com');
    const named = await server.request('PATCH', '/api/account', {
      token: user.access_token,
      body: { name: 'Ada' },
    });
    expect(named.body.name).toBe('Ada');
    const change = await server.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: 'new@example.com' },
    });
    expect(change.status).toBe(202);
    await mailTo('old@example.com', /about to change/i);
    const confirm = await mailTo('new@example.com', /confirm your new email/i);
    expect(linkIn(confirm)).toMatch(/^http:\/\/ui\.test\/#\/confirm-email\?token=/);
    const who = await server.request('GET', '/api/whoami', { token: user.access_token });
    expect(who.body.user.email).toBe('old@example.com');
    // Signed out, the confirmation takes the account's password (whoever asked proves it was them).
    const done = await followEmailChangeLink(server, tokenIn(linkIn(confirm)));
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ email: 'new@example.com', email_verified: true });
    await mailTo('old@example.com', /was changed/i);
    const login = await server.request('POST', '/api/login', {
      body: { email: 'new@example.com', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
  });

  it('an address another account has: the same 202, a notice to that address instead of a link (F6)', async () => {
    const user = await signUp(server, 'prober@example.com');
    const ask = (newEmail: string) =>
      server.request('POST', '/api/email/change', {
        token: user.access_token,
        body: { new_email: newEmail },
      });
    const taken = await ask('admin@example.com');
    const free = await ask('free-address@example.com');
    expect(taken.status).toBe(202);
    expect(free.status).toBe(202);
    // One body, but for the address it echoes.
    expect(JSON.stringify(taken.body).replace('admin@example.com', 'X')).toBe(
      JSON.stringify(free.body).replace('free-address@example.com', 'X'),
    );
    const notice = await mailTo('admin@example.com', /tried to move an account to your address/i);
    expect(notice.text).toContain('You already have an account with this address');
    expect(linkIn(notice)).toMatch(/^http:\/\/ui\.test\/#\/forgot-password$/);
    expect(notice.text).not.toContain('prober@example.com');
    await mailTo('free-address@example.com', /confirm your new email/i);
    expect(
      smtp.messages.filter(
        (m) => m.to.includes('admin@example.com') && /confirm your new email/i.test(m.subject),
      ),
    ).toEqual([]);
    const events = await server.app.jot.store.listSecurityEvents({
      limit: 10,
      userId: user.userId,
      type: 'email_change_requested',
    });
    const requested = events.map((e) => e.detail);
    expect(requested).toEqual(expect.arrayContaining([{ taken: true }, { taken: false }]));
    expect(requested).toHaveLength(2);
  });

  it('knows its own address in any spelling, and keeps the display form of a new one', async () => {
    const user = await signUp(server, 'Mixed.Case@Example.com');
    for (const same of ['Mixed.Case@Example.com', 'mixed.case@example.com', 'ＭＩＸＥＤ.case@example.com.']) {
      const refused = await server.request('POST', '/api/email/change', {
        token: user.access_token,
        body: { new_email: same },
      });
      expect(refused.status, same).toBe(400);
      expect(refused.body.code).toBe('ERR_VALIDATION');
    }
    const change = await server.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: 'New.Display@Example.com' },
    });
    expect(change.status).toBe(202);
    // Mail transports may lower-case the domain of the envelope address.
    const confirm = await smtp.waitFor(
      (m) =>
        m.to.some((to) => to.toLowerCase() === 'new.display@example.com') &&
        /confirm your new/i.test(m.subject),
    );
    const done = await followEmailChangeLink(server, tokenIn(linkIn(confirm)));
    expect(done.body).toMatchObject({ email: 'New.Display@Example.com' });
  });

  /** Asks for a change of `user`'s email to `to`; the confirmation link's token. */
  async function changeLink(user: { access_token: string }, to: string): Promise<string> {
    const after = smtp.messages.length;
    const asked = await server.request('POST', '/api/email/change', {
      token: user.access_token,
      body: { new_email: to },
    });
    expect(asked.status).toBe(202);
    return tokenIn(linkIn(await mailTo(to, /confirm your new email/i, after)));
  }
  /** Confirms as the one who asked, with the account's password: a dead link is refused before it is looked at. */
  const confirmChange = (token: string) => followEmailChangeLink(server, token);

  it('a pending change dies when the owner changes the password or signs out everywhere (what the notice says to do), or an admin disables the account', async () => {
    const signedOut = await signUp(server, 'taken-over-1@example.com');
    const afterSignOut = await changeLink(signedOut, 'thief-1@example.com');
    expect((await server.request('POST', '/api/logout-all', { token: signedOut.access_token })).status).toBe(
      204,
    );
    const dead = await confirmChange(afterSignOut);
    expect(dead.body.code).toBe('ERR_LINK_USED');
    // Regression: the answer said "this link was already used" though it never was; the code and the words stay the
    // same for every dead link (nothing more to learn about the account), and no longer claim a use.
    expect(dead.body.error_description).not.toMatch(/was already used/);
    expect(dead.body.error_description).toMatch(/used already, or the account changed since it was sent/);

    const changed = await signUp(server, 'taken-over-2@example.com');
    const afterPassword = await changeLink(changed, 'thief-2@example.com');
    const password = await server.request('POST', '/api/password', {
      token: changed.access_token,
      body: { current_password: 'correct horse battery', new_password: 'another good passphrase' },
    });
    expect(password.status).toBe(200);
    expect((await confirmChange(afterPassword)).body.code).toBe('ERR_LINK_USED');
    const who = await server.request('POST', '/api/login', {
      body: { email: 'taken-over-2@example.com', password: 'another good passphrase' },
    });
    expect(who.status).toBe(200);

    const disabled = await signUp(server, 'taken-over-3@example.com');
    const afterDisable = await changeLink(disabled, 'thief-3@example.com');
    const disable = await server.request('POST', `/api/admin/users/${disabled.userId}/disable`, {
      token: admin.access_token,
    });
    expect(disable.status).toBe(200);
    // Disabling ends every session (a new credential generation), which kills the link like the rest.
    expect((await confirmChange(afterDisable)).body.code).toBe('ERR_LINK_USED');
  });

  it('changes the address by compare-and-set, so of two links confirmed at once only one can win', async () => {
    const user = await signUp(server, 'two-links@example.com');
    const { store } = server.app.jot;
    const before = (await store.getUserById(user.userId))!;
    // What the confirmation expects: the address the link was sent for, in the generation it was asked in.
    const stale = { email: 'elsewhere@example.com', credentialGeneration: before.credentialGeneration };
    expect(
      await store.setVerifiedEmail(user.userId, 'first-of-two@example.com', undefined, stale),
    ).toBeUndefined();
    const older = { email: before.email, credentialGeneration: before.credentialGeneration - 1 };
    expect(
      await store.setVerifiedEmail(user.userId, 'first-of-two@example.com', undefined, older),
    ).toBeUndefined();
    const current = { email: before.email, credentialGeneration: before.credentialGeneration };
    const won = await store.setVerifiedEmail(user.userId, 'first-of-two@example.com', undefined, current);
    expect(won?.email).toBe('first-of-two@example.com');
    // The second link expected the same address, which is no longer the account's.
    expect(
      await store.setVerifiedEmail(user.userId, 'second-of-two@example.com', undefined, current),
    ).toBeUndefined();
  });

  it('a reset link sent to the old address dies once the email changes', async () => {
    await signUp(server, 'moving@example.com');
    await forgot('moving@example.com');
    const reset = tokenIn(linkIn(await mailTo('moving@example.com', /reset your password/i)));
    const login = await server.request('POST', '/api/login', {
      body: { email: 'moving@example.com', password: 'correct horse battery' },
    });
    expect((await confirmChange(await changeLink(login.body, 'moved@example.com'))).status).toBe(200);
    const res = await server.request('POST', '/api/password/reset', {
      body: { token: reset, new_password: 'attacker chosen phrase' },
    });
    expect(res.body.code).toBe('ERR_LINK_USED');
  });

  it('limits the mail to a new address per recipient (JOT_RATE_LIMIT_MAIL), as the other mail endpoints', async () => {
    const user = await signUp(server, 'sender@example.com');
    const change = (newEmail: string) =>
      server.request('POST', '/api/email/change', {
        token: user.access_token,
        body: { new_email: newEmail },
      });
    for (let i = 0; i < 3; i++) expect((await change('bombed@example.com')).status).toBe(202);
    const limited = await change('Bombed@Example.com');
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('ERR_RATE_LIMITED');
    // Another recipient has a budget of its own.
    expect((await change('someone-else@example.com')).status).toBe(202);
  });
});

describe('account deletion', () => {
  it('needs a recent password authentication, then ends every session and removes the personal data', async () => {
    let now = Date.now();
    const clocked = await startServer({ smtpUrl: smtp.url, stepUpMaxAge: '5m' }, { clock: () => now });
    try {
      // The first account (the admin outside production) may not delete itself: it is the last admin.
      await signUp(clocked, 'stays@example.com');
      const user = await signUp(clocked, 'leaving@example.com');
      const other = await clocked.request('POST', '/api/login', {
        body: { email: 'leaving@example.com', password: 'correct horse battery' },
      });
      now += 10 * 60_000;
      const stale = await clocked.request('DELETE', '/api/account', { token: user.access_token });
      expect(stale.body.code).toBe('ERR_STEP_UP_REQUIRED');
      const reauth = await clocked.request('POST', '/api/reauth', {
        token: user.access_token,
        body: { password: 'correct horse battery' },
      });
      const deleted = await clocked.request('DELETE', '/api/account', { token: reauth.body.access_token });
      expect(deleted.status).toBe(204);
      const { store } = clocked.app.jot;
      expect(await store.getUserByEmail('leaving@example.com')).toBeUndefined();
      expect((await clocked.request('GET', '/api/whoami', { token: other.body.access_token })).status).toBe(
        401,
      );
      const refresh = await clocked.request('POST', '/api/token/refresh', {
        body: { refresh_token: other.body.refresh_token },
      });
      expect(refresh.status).toBe(401);
      expect((await store.listOutbox({ limit: 100 })).filter((m) => m.to === 'leaving@example.com')).toEqual(
        [],
      );
      const events = await store.listSecurityEvents({ limit: 100, userId: user.userId });
      expect(events.map((e) => e.type)).toContain('account_deleted');
      expect(events.every((e) => e.ip === null)).toBe(true);
      expect(
        events.filter((e) => e.type !== 'account_deleted').every((e) => JSON.stringify(e.detail) === '{}'),
      ).toBe(true);
      expect(JSON.stringify(events)).not.toContain('leaving@example.com');
    } finally {
      await clocked.close();
    }
  });

  it('an admin can delete a user (not themselves); admin lists search and page, events show emails', async () => {
    for (let i = 0; i < 7; i++) await signUp(server, `page-${i}@example.com`);
    const page = await server.request('GET', '/api/admin/users?q=PAGE-&limit=3&offset=3', {
      token: admin.access_token,
    });
    expect(page.body.total).toBe(7);
    expect(page.body.users.map((u: { email: string }) => u.email)).toEqual([
      'page-3@example.com',
      'page-4@example.com',
      'page-5@example.com',
    ]);
    const wildcard = await server.request('GET', '/api/admin/users?q=%25', { token: admin.access_token });
    expect(wildcard.body.total).toBe(0);
    const victim = page.body.users[0].id as string;
    const self = await server.request('DELETE', `/api/admin/users/${admin.userId}`, {
      token: admin.access_token,
    });
    expect(self.status).toBe(400);
    const del = await server.request('DELETE', `/api/admin/users/${victim}`, { token: admin.access_token });
    expect(del.status).toBe(204);
    const gone = await server.request('GET', '/api/admin/users?q=page-3', { token: admin.access_token });
    expect(gone.body.total).toBe(0);
    await server.request('POST', '/api/login', {
      body: { email: 'page-4@example.com', password: 'wrong one!' },
    });
    const events = await server.request('GET', '/api/admin/events?limit=20', { token: admin.access_token });
    const failed = events.body.events.find((e: { type: string }) => e.type === 'login_failed');
    expect(failed.user_email).toBe('page-4@example.com');
  });
});
