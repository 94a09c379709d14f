/**
 * Accounts an admin creates under `JOT_EMAIL_VERIFICATION=required` (the walkthrough's main path, production's
 * registration being `closed`): the address gets its verification link through the outbox (confirmed with the
 * password the admin chose, as any first verification is), or the admin vouches for it with `email_verified: true`;
 * and the sign-in refusal never claims a link was sent when none was.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ensureBootstrapAdmin } from '@jot/server';

import { followVerificationLink, startServer, type TestServer } from './support/jot-server.js';
import { linkIn, startSmtp, tokenIn, type TestSmtp } from './support/smtp.js';

const ADMIN = { email: 'root@example.com', password: 'bootstrap admin passphrase' };
const PASSWORD = 'made by an admin 1';
let smtp: TestSmtp;
let server: TestServer;
let adminToken: string;

beforeAll(async () => {
  smtp = await startSmtp();
  server = await startServer({
    smtpUrl: smtp.url,
    publicUrl: 'http://ui.test',
    emailVerification: 'required',
    registration: 'closed',
    adminEmail: ADMIN.email,
    adminPassword: ADMIN.password,
  });
  await ensureBootstrapAdmin(server.app);
  const login = await server.request('POST', '/api/login', { body: ADMIN });
  expect(login.status).toBe(200);
  adminToken = login.body.access_token;
});
afterAll(async () => {
  await server.close();
  await smtp.stop();
});

const create = (body: Record<string, unknown>) =>
  server.request('POST', '/api/admin/users', { token: adminToken, body });
const login = (email: string) =>
  server.request('POST', '/api/login', { body: { email, password: PASSWORD } });
const queuedTo = async (email: string) =>
  (await server.app.jot.store.listOutbox({ limit: 1000 })).filter((m) => m.to === email);

describe('an account an admin creates under required verification', () => {
  it('gets its verification link, and signs in once the link is followed', async () => {
    const email = 'made@example.com';
    const made = await create({ email, password: PASSWORD });
    expect(made.status).toBe(201);
    expect(made.body.email_verified).toBe(false);
    const mail = await smtp.waitFor((m) => m.to.includes(email) && /confirm your email/i.test(m.subject));
    expect(mail.text).toContain("You will be asked for your account's password.");
    const refused = await login(email);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('ERR_EMAIL_NOT_VERIFIED');
    // The password the admin chose (and gave its owner): a never-verified address is confirmed with it.
    const verified = await followVerificationLink(server, tokenIn(linkIn(mail)), PASSWORD);
    expect(verified.status).toBe(200);
    expect((await login(email)).status).toBe(200);
  });

  it('with email_verified: true is verified from the start, signs in at once, and no link is queued', async () => {
    const email = 'vouched@example.com';
    const made = await create({ email, password: PASSWORD, email_verified: true });
    expect(made.status).toBe(201);
    expect(made.body.email_verified).toBe(true);
    expect((await login(email)).status).toBe(200);
    // The message would have been queued before the 201: nothing for this address is in the outbox.
    expect(await queuedTo(email)).toEqual([]);
  });

  it('with email_verified: false behaves as without it; a non-boolean is refused', async () => {
    const made = await create({ email: 'explicit@example.com', password: PASSWORD, email_verified: false });
    expect(made.body.email_verified).toBe(false);
    expect(await queuedTo('explicit@example.com')).toHaveLength(1);
    const bad = await create({ email: 'bad@example.com', password: PASSWORD, email_verified: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('ERR_VALIDATION');
  });

  it('the sign-in refusal does not claim a link was sent, and says how to get one', async () => {
    // An account made while no link could be sent (verification was off): now unverified under `required`.
    const email = 'nolink@example.com';
    await server.app.jot.accounts.create({ email, password: PASSWORD, via: 'admin' });
    expect(await queuedTo(email)).toEqual([]);
    const refused = await login(email);
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('ERR_EMAIL_NOT_VERIFIED');
    expect(refused.body.error_description).not.toMatch(/we sent|was sent|sent you/i);
    expect(refused.body.error_description).toContain('POST your email to /api/email/verification');
  });
});
