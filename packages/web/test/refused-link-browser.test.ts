/**
 * No dead end after a refused link, in real Chromium at a phone's width (390 px) and a desktop's (1280 px): when the
 * server refuses a password-reset or verification link (expired, used already, not valid), its page says why in the
 * server's words and offers a new link, the address the link was sent to filled in, and that new link works. The
 * focus goes to that form — its button, or the address when there is none to fill in — whether the refusal came
 * when the page opened (a verification link) or when its form was sent (a reset link). Links come from a real SMTP
 * server; an expired link is one opened with the server's clock moved past its lifetime.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from '../../server/test/support/jot-server.js';
import { linkIn, tokenIn, type ReceivedMail, type TestSmtp } from '../../server/test/support/smtp.js';
import {
  available,
  expectNoOverflow,
  focusedName,
  openPage,
  PASSWORD,
  startMailBrowserServer,
  stopMailBrowserServer,
} from './support/browser.js';

const WIDTHS = [390, 1280] as const;
const HOUR = 3_600_000;

describe.runIf(available)('a refused link offers a new one', () => {
  let smtp: TestSmtp;
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** Added to the server's clock: moves it past a link's lifetime. */
  let skew = 0;

  /** The next message to `address` whose subject matches, received after `seen` messages. */
  const nextMail = (address: string, subject: RegExp, seen: number): Promise<ReceivedMail> =>
    smtp.waitFor(
      (m) => m.to.includes(address) && subject.test(m.subject) && smtp.messages.indexOf(m) >= seen,
    );
  /** What has the focus (see focusedName), once the page has had 200 ms to move it. */
  const focused = async (page: Page): Promise<string> => {
    await page.waitForTimeout(200);
    return focusedName(page);
  };

  beforeAll(async () => {
    ({ smtp, server, browser } = await startMailBrowserServer({
      settings: { rateLimitMail: '100/min' },
      clock: () => Date.now() + skew,
    }));
  });
  afterAll(() => stopMailBrowserServer({ smtp, server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`${width} px: a used, expired or broken reset link offers a new one, to its address`, async () => {
      const email = `reset-${width}@refused-link.test`;
      await signUp(server, email);
      const page = await openPage(browser, contexts, width);
      const askForLink = async (): Promise<string> => {
        const seen = smtp.messages.length;
        const asked = await server.request('POST', '/api/password/forgot', { body: { email } });
        expect(asked.status, asked.text).toBe(202);
        return linkIn(await nextMail(email, /reset your password/i, seen));
      };
      const submitReset = async (link: string): Promise<void> => {
        await page.goto(link);
        await page.locator('#reset-password').fill('another good passphrase');
        await page.getByRole('button', { name: 'Set new password' }).click();
      };
      const newLinkForm = page.getByRole('form', { name: 'Ask for a new link' });

      // Used already (here by another tab): the server's words, then a form for a new link with the address in it.
      const used = await askForLink();
      const reset = await server.request('POST', '/api/password/reset', {
        body: { token: tokenIn(used), new_password: 'a first new passphrase' },
      });
      expect(reset.status, reset.text).toBe(200);
      await submitReset(used);
      await page
        .getByRole('alert')
        .filter({
          hasText: 'This link can no longer be used: it was used already, or the account changed since',
        })
        .waitFor();
      await newLinkForm.waitFor();
      expect(await page.getByRole('button', { name: 'Set new password' }).count()).toBe(0);
      expect(await newLinkForm.getByLabel('Email').inputValue()).toBe(email);
      expect(await focused(page)).toBe('Send me a new link');
      await expectNoOverflow(page, 'used reset link');
      const seen = smtp.messages.length;
      await page.keyboard.press('Enter');
      await page.getByText(`If an account uses ${email}, a link is on its way.`, { exact: false }).waitFor();
      // …and the new link works.
      await submitReset(linkIn(await nextMail(email, /reset your password/i, seen)));
      await page.getByText('Your password was changed and every session was signed out.').waitFor();

      // Expired: the same way on.
      const expired = await askForLink();
      skew = HOUR;
      try {
        await submitReset(expired);
        await page
          .getByRole('alert')
          .filter({ hasText: 'This link has expired; ask for a new one.' })
          .waitFor();
      } finally {
        skew = 0;
      }
      expect(await newLinkForm.getByLabel('Email').inputValue()).toBe(email);

      // Not a link of this server: nothing to fill in, so the focus is on the address.
      await submitReset(`${server.url}/#/reset-password?token=not-a-link`);
      await page
        .getByRole('alert')
        .filter({ hasText: 'This link is not valid; check that you copied all of it.' })
        .waitFor();
      expect(await newLinkForm.getByLabel('Email').inputValue()).toBe('');
      expect(await focused(page)).toBe('#forgot-email');
      await expectNoOverflow(page, 'invalid reset link');
    });

    it(`${width} px: an expired verification link offers a new one, to its address`, async () => {
      const email = `verify-${width}@refused-link.test`;
      const seen = smtp.messages.length;
      const registered = await server.request('POST', '/api/register', {
        body: { email, password: PASSWORD },
      });
      expect(registered.status, registered.text).toBe(201);
      const link = linkIn(await nextMail(email, /confirm your email/i, seen));
      const page = await openPage(browser, contexts, width);
      skew = 25 * HOUR;
      try {
        await page.goto(link);
        await page
          .getByRole('alert')
          .filter({ hasText: 'This link has expired; ask for a new one.' })
          .waitFor();
      } finally {
        skew = 0;
      }
      const again = page.getByRole('form', { name: 'Ask for a new link' });
      expect(await again.getByLabel('Email').inputValue()).toBe(email);
      // The page opened on the refusal: the form is its one question, and the focus is on its button (the address
      // is filled in), as when a reset link is refused — not on the heading.
      expect(await focused(page)).toBe('Send a new link');
      await expectNoOverflow(page, 'expired verification link');
      const before = smtp.messages.length;
      await again.getByRole('button', { name: 'Send a new link' }).click();
      await page.getByText(`If ${email} still needs confirming, a new link is on its way.`).waitFor();
      await page.goto(linkIn(await nextMail(email, /confirm your email/i, before)));
      // Signed out, the first verification takes the account's password (verify-email-asks-the-password-browser).
      const confirm = page.getByRole('form', { name: 'Enter your password' });
      await confirm.getByLabel('Password', { exact: true }).fill(PASSWORD);
      await confirm.getByRole('button', { name: 'Confirm my email' }).click();
      await page.getByText(`${email} is verified. Thank you.`).waitFor();

      // Not a link of this server: nothing to fill in, so the focus is on the address.
      await page.goto(`${server.url}/#/verify-email?token=not-a-link`);
      await page
        .getByRole('alert')
        .filter({ hasText: 'This link is not valid; check that you copied all of it.' })
        .waitFor();
      expect(await again.getByLabel('Email').inputValue()).toBe('');
      expect(await focused(page)).toBe('#verification-email');
    });
  }
});
