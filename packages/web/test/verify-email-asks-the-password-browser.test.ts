/**
 * The verification page of a never-verified address, and the email-change confirmation page, in real Chromium at a
 * phone's width (390 px) and a desktop's (1280 px), links read from a real SMTP server. Opened without a session of
 * the account, the server answers `ERR_PASSWORD_REQUIRED` (someone may have registered another person's address, or
 * asked to move their account to it: services/registrant-proof.ts), and the page asks for the account's password —
 * a labelled field with `autocomplete="current-password"`, which takes the focus — next to a visible way out for the
 * address's owner who did not ask: "I did not create this account — reset the password", to the forgot-password page
 * with the address filled in, or, for a change, leaving it. A wrong password is said at the field (`aria-invalid`,
 * described by the error), which is emptied and focused again, and the link still works; a locked sign-in (429) is
 * said on the form; the right password confirms. Opened in the browser signed in to the account, the session is
 * proof enough (no form).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import { linkIn, type ReceivedMail, type TestSmtp } from '../../server/test/support/smtp.js';
import {
  available,
  expectNoOverflow,
  focusedName,
  openPage,
  PASSWORD,
  registerAccount,
  signInWithForm,
  startMailBrowserServer,
  stopMailBrowserServer,
} from './support/browser.js';

const WIDTHS = [390, 1280] as const;

describe.runIf(available)('the first verification asks for the password the account was created with', () => {
  let smtp: TestSmtp;
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const mailTo = (address: string): Promise<ReceivedMail> =>
    smtp.waitFor((m) => m.to.includes(address) && /confirm your email/i.test(m.subject));
  const verifiedAt = async (email: string) =>
    (await server.app.jot.store.getUserByEmail(email))?.emailVerifiedAt;

  beforeAll(async () => {
    ({ smtp, server, browser } = await startMailBrowserServer({
      // Two free failures: the second locks the account's sign-in (and the password the link takes) for 30 s.
      settings: { rateLimitMail: '100/min', loginLockout: '2/30s' },
      accounts: ['first-admin@verify-password.test'],
    }));
  });
  afterAll(() => stopMailBrowserServer({ smtp, server, browser }, contexts));

  /** The password form the page shows for `email`'s link. */
  async function passwordFormFor(page: Page, email: string) {
    await page.goto(linkIn(await mailTo(email)));
    const form = page.getByRole('form', { name: 'Enter your password' });
    await form.waitFor();
    return form;
  }

  /** The forgot-password page's address for `email`, filled in (an address only, never a token). */
  const forgotHref = (email: string) => `#/forgot-password?${new URLSearchParams({ email }).toString()}`;

  for (const width of WIDTHS) {
    it(`${width} px: signed out, the page asks for the password; a wrong one is refused, the right one verifies`, async () => {
      const email = `owner-${width}@verify-password.test`;
      await registerAccount(server, email);
      const page = await openPage(browser, contexts, width);
      const form = await passwordFormFor(page, email);

      const password = form.getByLabel('Password', { exact: true });
      expect(await password.getAttribute('autocomplete')).toBe('current-password');
      expect(await password.getAttribute('type')).toBe('password');
      expect(await form.getByLabel('Email').inputValue()).toBe(email);
      // The form is the page's one question: the password field has the focus.
      expect(await focusedName(page)).toBe('#link-password');
      const hint = form.getByText('The password this account signs in with.');
      expect(await hint.isVisible()).toBe(true);
      const notMine = page.getByRole('link', { name: 'I did not create this account — reset the password' });
      expect(await notMine.isVisible()).toBe(true);
      expect(await notMine.getAttribute('href')).toBe(forgotHref(email));
      // The take-over is offered once, not repeated around its link.
      expect(await page.getByText(/did not create this account|didn.t create this account/i).count()).toBe(1);
      await expectNoOverflow(page, `the password form at ${width} px`);

      await password.fill('not the password');
      await form.getByRole('button', { name: 'Confirm my email' }).click();
      const wrong = form.getByRole('alert').filter({ hasText: 'That is not the password of this account.' });
      await wrong.waitFor();
      expect(await verifiedAt(email)).toBeNull();
      // Said at the field: marked invalid, described by the error (and its hint), emptied and focused for a new try.
      expect(await password.getAttribute('aria-invalid')).toBe('true');
      const errorId = await wrong.getAttribute('id');
      expect(errorId).toBeTruthy();
      expect((await password.getAttribute('aria-describedby'))?.split(' ')).toContain(errorId);
      expect(await password.inputValue()).toBe('');
      expect(await focusedName(page)).toBe('#link-password');
      expect(await notMine.isVisible()).toBe(true);
      await expectNoOverflow(page, `the password form with its error at ${width} px`);

      await password.fill(PASSWORD);
      await form.getByRole('button', { name: 'Confirm my email' }).click();
      await page.getByText(`${email} is verified. Thank you.`).waitFor();
      expect(await form.count()).toBe(0);
      expect(await focusedName(page)).toBe(`${email} is verified. Thank you.`);
      expect(await verifiedAt(email)).not.toBeNull();
      await expectNoOverflow(page, `verified at ${width} px`);
    });

    it(`${width} px: "I did not create this account" leads to the forgot-password page, and the link stays unspent`, async () => {
      const email = `squatted-${width}@verify-password.test`;
      await registerAccount(server, email);
      const page = await openPage(browser, contexts, width);
      await passwordFormFor(page, email);
      await page.getByRole('link', { name: 'I did not create this account — reset the password' }).click();
      await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
      // The address comes filled in, and leaves the address bar (as a link's token does).
      expect(await page.locator('#forgot-email').inputValue()).toBe(email);
      expect(await page.evaluate(() => location.hash)).toBe('#/forgot-password');
      await page.getByRole('button', { name: 'Send me a link' }).click();
      await page.getByText(`If an account uses ${email}, a link is on its way.`, { exact: false }).waitFor();
      expect(await verifiedAt(email)).toBeNull();
    });
  }

  it('a locked sign-in (429 ERR_LOGIN_LOCKED) is said on the form; the link stays unspent', async () => {
    const email = 'locked@verify-password.test';
    await registerAccount(server, email);
    for (const guess of ['wrong guess 1', 'wrong guess 2']) {
      const res = await server.request('POST', '/api/login', { body: { email, password: guess } });
      expect(res.status).toBe(401);
    }
    const page = await openPage(browser, contexts, 390);
    const form = await passwordFormFor(page, email);
    await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
    await form.getByRole('button', { name: 'Confirm my email' }).click();
    await form.getByRole('alert').filter({ hasText: 'Too many sign-in attempts for this account' }).waitFor();
    expect(await verifiedAt(email)).toBeNull();
    await expectNoOverflow(page, 'the password form with the lock at 390 px');
  });

  for (const width of WIDTHS) {
    it(`${width} px: the email-change confirmation asks for the password too, without a way out through a reset`, async () => {
      const email = `mover-${width}@verify-password.test`;
      const next = `moved-${width}@verify-password.test`;
      await registerAccount(server, email, { verified: true });
      const login = await server.request('POST', '/api/login', {
        body: { email, password: PASSWORD, delivery: 'bearer' },
      });
      const asked = await server.request('POST', '/api/email/change', {
        token: login.body.access_token as string,
        body: { new_email: next },
      });
      expect(asked.status, asked.text).toBe(202);
      const link = linkIn(
        await smtp.waitFor((m) => m.to.includes(next) && /confirm your new email/i.test(m.subject)),
      );
      const page = await openPage(browser, contexts, width);
      await page.goto(link);
      const form = page.getByRole('form', { name: 'Enter your password' });
      await form.waitFor();
      // The password goes with the address the account has now, not the new one.
      expect(await form.getByLabel('Account email').inputValue()).toBe(email);
      expect(await focusedName(page)).toBe('#link-password');
      await form.getByText('Didn’t ask for this change?').waitFor();
      expect(await page.getByRole('link', { name: /reset the password/ }).count()).toBe(0);
      await expectNoOverflow(page, `the change's password form at ${width} px`);
      expect((await server.app.jot.store.getUserByEmail(email))?.email).toBe(email);

      await form.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await form.getByRole('button', { name: 'Confirm the new address' }).click();
      await page.getByText(`Your account's email is now ${next}.`).waitFor();
      expect(await focusedName(page)).toBe(`Your account's email is now ${next}.`);
      expect(await server.app.jot.store.getUserByEmail(next)).toBeDefined();
    });
  }

  it('signed in to the account in this browser, the link verifies without asking', async () => {
    const email = 'signed-in@verify-password.test';
    await registerAccount(server, email);
    const page = await openPage(browser, contexts, 1280);
    await signInWithForm(page, server.url, email);
    await page.goto(linkIn(await mailTo(email)));
    await page.getByText(`${email} is verified. Thank you.`).waitFor();
    expect(await page.getByRole('form', { name: 'Enter your password' }).count()).toBe(0);
  });
});
