/**
 * The name saved on the account page shows in its "Who am I" line at once, in real Chromium at a phone's width and a
 * desktop's. Regression test: the line kept the name the page was drawn with ("Name saved." under a stale name) until
 * the user left the page and came back.
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
});
