/**
 * An admin signs a user out everywhere from the users page, in real Chromium at a phone's width (390 px) and a
 * desktop's (1280 px): the row's "Sign out everywhere" is reached with the keyboard, asks first (Cancel changes
 * nothing), and says how many sessions ended; the user's tokens stop working. The admin's own row offers it disabled
 * (their own sessions end from the account page), and nothing on the page reaches beyond the screen.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  focusedId,
  horizontalOverflow,
  PASSWORD,
  signedInPage,
  startBrowserServer,
  stopBrowserServer,
  tabTo,
} from './support/browser.js';

const ADMIN = 'admin@sign-out-user.test';
const USER = 'user@sign-out-user.test';
const WIDTHS = [390, 1280] as const;

describe.runIf(available)('an admin signs a user out everywhere', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A fresh bearer session of `email`: its access token. */
  const signIn = async (email: string): Promise<string> => {
    const login = await server.request('POST', '/api/login', {
      body: { email, password: PASSWORD, delivery: 'bearer' },
    });
    expect(login.status, login.text).toBe(200);
    return login.body.access_token as string;
  };
  const whoamiStatus = async (token: string): Promise<number> =>
    (await server.request('GET', '/api/whoami', { token })).status;

  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer({ accounts: [ADMIN, USER] }));
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`at ${width} px: keyboard, confirmation, outcome; the user's tokens stop working`, async () => {
      const tokens = [await signIn(USER), await signIn(USER)];
      const userId = (await server.app.jot.store.getUserByEmail(USER))!.id;
      const adminId = (await server.app.jot.store.getUserByEmail(ADMIN))!.id;
      const page = await signedInPage({ server, browser }, contexts, ADMIN, { width, height: 844 });
      await page.goto(`${server.url}/#/admin/users`);
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      const button = page.getByRole('button', { name: `Sign ${USER} out everywhere` });
      await button.waitFor();
      expect(await button.textContent()).toBe('Sign out everywhere');
      expect(await page.getByRole('button', { name: `Sign ${ADMIN} out everywhere` }).isDisabled()).toBe(
        true,
      );

      // Reached with Tab from the search field; Enter asks first, with Cancel focused: Escape changes nothing.
      await page.locator('#user-search').focus();
      expect(await tabTo(page, `sign-out-${userId}`)).toBe(true);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: `Sign ${USER} out everywhere?` });
      await dialog.waitFor();
      await dialog.getByText('Every session of theirs ends').waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
      expect((await horizontalOverflow(page)).overflow).toBeLessThanOrEqual(0);
      const box = await dialog.boundingBox();
      expect(box!.x).toBeGreaterThanOrEqual(0);
      expect(box!.x + box!.width).toBeLessThanOrEqual(width);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await page.getByText('Cancelled: nothing was changed.').waitFor();
      await expect.poll(() => focusedId(page)).toBe(`sign-out-${userId}`);
      for (const token of tokens) expect(await whoamiStatus(token)).toBe(200);

      // Confirmed with the keyboard: from Cancel back to the confirm button, then Enter.
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
      await page.keyboard.press('Shift+Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Sign out everywhere');
      await page.keyboard.press('Enter');
      await dialog.waitFor({ state: 'detached' });
      await page.getByText(`${USER} signed out everywhere: 2 sessions ended.`).waitFor();
      for (const token of tokens) expect(await whoamiStatus(token)).toBe(401);
      const events = await server.app.jot.store.listSecurityEvents({ limit: 5, userId });
      expect(events.find((e) => e.type === 'logout_all')?.detail).toEqual({ by: adminId, revoked: 2 });
      // The admin is still signed in, the focus still on the button pressed, and the page fits the screen.
      await expect.poll(() => focusedId(page)).toBe(`sign-out-${userId}`);
      expect(await page.evaluate(() => document.body.dataset.session)).toBe('signed-in');
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      expect(await horizontalOverflow(page)).toEqual({ overflow: 0, culprits: [] });
      const buttonBox = await button.boundingBox();
      expect(buttonBox!.x + buttonBox!.width).toBeLessThanOrEqual(width);
    });
  }
});
