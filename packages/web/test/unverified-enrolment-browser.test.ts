/**
 * The account page of an account whose address is not verified yet, in real Chromium at a phone's width and a
 * desktop's: the server refuses a new second factor then (pre-account hijacking, `needs_verified_email`), so the
 * two-step section says "Confirm your email address first" in place of the set-up buttons — no button that could
 * only fail. Once the link from the sign-up mail is opened, the buttons are back and setting up an app starts.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import { linkIn, type TestSmtp } from '../../server/test/support/smtp.js';
import {
  available,
  expectNoOverflow,
  SHOTS,
  signedInPage,
  startMailBrowserServer,
  stopMailBrowserServer,
} from './support/browser.js';

const WIDTHS = [390, 1280] as const;

/** The set-up controls the section shows when a factor may be added. */
const SET_UP = ['Set up an authenticator app', 'Add a passkey', 'New recovery codes'] as const;

async function setUpButtons(page: Page): Promise<number> {
  let shown = 0;
  for (const name of SET_UP) shown += await page.getByRole('button', { name }).count();
  return shown;
}

describe.runIf(available)('two-step set-up waits for a verified address', () => {
  let server: TestServer;
  let browser: Browser;
  let smtp: TestSmtp;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ({ server, browser, smtp } = await startMailBrowserServer());
  });
  afterAll(() => stopMailBrowserServer({ server, browser, smtp }, contexts));

  for (const width of WIDTHS) {
    it(`${width} px: "Confirm your email address first" instead of the set-up buttons, until the link is opened`, async () => {
      const email = `unverified-${width}@jot.test`;
      const page = await signedInPage({ server, browser }, contexts, email, { width, register: true });
      const section = page.locator('#mfa');
      await section.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      const note = section.locator('#mfa-needs-email');
      await note.waitFor();
      expect(await note.textContent()).toMatch(/^Confirm your email address first/);
      // The summary above it does not ask for a factor the server would refuse.
      expect(await section.getByText('Two-step verification is off.', { exact: true }).count()).toBe(1);
      expect(await setUpButtons(page)).toBe(0);
      await expectNoOverflow(page, `the unverified two-step section at ${width} px`);
      await section.screenshot({ path: join(SHOTS, `mfa-unverified-${width}.png`) });

      // The link from the sign-up mail, opened in the same tab (the session stays).
      const mail = await smtp.waitFor((m) => m.to.includes(email) && /confirm your email/i.test(m.subject));
      await page.goto(linkIn(mail));
      await page.getByText(`${email} is verified.`, { exact: false }).waitFor();
      await page.goto(`${server.url}/#/account`);
      await page.getByRole('heading', { name: 'My account' }).waitFor();
      const start = page.getByRole('button', { name: 'Set up an authenticator app' });
      await start.waitFor();
      expect(await page.locator('#mfa-needs-email').count()).toBe(0);
      await start.click();
      await page.getByRole('heading', { name: 'Scan this code with your authenticator app' }).waitFor();
      await expectNoOverflow(page, `the verified two-step section at ${width} px`);
    });
  }
});
