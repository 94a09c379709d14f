/**
 * The account page's profile forms in real Chromium. The name saved shows in its "Who am I" line at once, at a phone's
 * width and a desktop's. Regression test: the line kept the name the page was drawn with ("Name saved." under a stale
 * name) until the user left the page and came back. The new-email field empties once a change is requested, and
 * keeps an address the server refused so that the user can correct it. Regression test: the address just requested
 * stayed in the field, inviting a second request.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  focusedName,
  signedInPage,
  startBrowserServer,
  stopBrowserServer,
} from './support/browser.js';

const WIDTHS = [390, 1280] as const;
const email = (width: number): string => `profile-name-${width}@jot.test`;

describe.runIf(available)('saving the display name on the account page', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => ({ server, browser } = await startBrowserServer({ accounts: WIDTHS.map(email) })));
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`shows the new name in "Who am I" at once, at ${width} px`, async () => {
      const page = await signedInPage({ server, browser }, contexts, email(width), { width, height: 844 });
      const whoami = page.getByRole('region', { name: 'Who am I' }).locator('p').first();
      expect(await whoami.textContent()).toMatch(`Signed in as ${email(width)}. Roles:`);

      await page.locator('#profile-name').fill('Ada Lovelace');
      await page.locator('#profile-name').press('Enter');
      await page.getByText('Name saved.').waitFor();
      expect(await whoami.textContent()).toMatch(`Signed in as ${email(width)} (Ada Lovelace). Roles:`);
      // The focus stays where the user saved from.
      expect(await focusedName(page)).toBe('#profile-name');

      await page.locator('#profile-name').fill('');
      await page.getByRole('button', { name: 'Save name' }).click();
      await page.getByText('Name saved.').waitFor();
      await expect.poll(() => whoami.textContent()).toMatch(`Signed in as ${email(width)}. Roles:`);
    });
  }

  it('empties the new-email field once the change is requested, and keeps an address the server refused', async () => {
    const page = await signedInPage({ server, browser }, contexts, 'email-field@jot.test', {
      width: 1280,
      height: 844,
      register: true,
    });
    const form = page.locator('form[aria-labelledby="email-h"]');
    const newEmail = page.locator('#new-email');

    // The account's own address, spelled otherwise: refused, and still there to correct. (Another account's address
    // is not refused: the answer must not tell that it is taken.)
    await newEmail.fill('Email-Field@jot.test');
    await newEmail.press('Enter');
    await form.getByText('That is already the email of your account.', { exact: true }).waitFor();
    expect(await newEmail.inputValue()).toBe('Email-Field@jot.test');

    await newEmail.fill('email-field-moved@jot.test');
    await form.getByRole('button', { name: 'Change email' }).click();
    await form.getByText(/Check your inbox: open the link we sent to email-field-moved@jot\.test/).waitFor();
    expect(await newEmail.inputValue()).toBe('');
  });
});
