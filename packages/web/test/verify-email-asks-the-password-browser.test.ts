/**
 * The verification page of a never-verified address, in real Chromium at a phone's width (390 px) and a desktop's
 * (1280 px), links read from a real SMTP server. Opened without a session of the account, the server answers
 * `ERR_PASSWORD_REQUIRED` (someone may have registered another person's address: services/registrant-proof.ts), and
 * the page asks for the account's password — a labelled field with `autocomplete="current-password"` — next to a
 * visible way out for the address's owner who did not create the account: "I did not create this account — reset
 * the password", to the forgot-password page. A wrong password is refused with a message and the link still works;
 * the right one verifies. Opened in the browser signed in to the account, the session is proof enough (no form).
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
      settings: { rateLimitMail: '100/min' },
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
      const notMine = page.getByRole('link', { name: 'I did not create this account — reset the password' });
      expect(await notMine.isVisible()).toBe(true);
      expect(await notMine.getAttribute('href')).toBe('#/forgot-password');
      await expectNoOverflow(page, `the password form at ${width} px`);

      await password.fill('not the password');
      await form.getByRole('button', { name: 'Confirm my email' }).click();
      await form
        .getByRole('alert')
        .filter({ hasText: 'That is not the password of this account.' })
        .waitFor();
      expect(await verifiedAt(email)).toBeNull();
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
      await page.locator('#forgot-email').fill(email);
      await page.getByRole('button', { name: 'Send me a link' }).click();
      await page.getByText(`If an account uses ${email}, a link is on its way.`, { exact: false }).waitFor();
      expect(await verifiedAt(email)).toBeNull();
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
