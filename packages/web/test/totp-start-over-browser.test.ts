/**
 * Starting over after setting up an authenticator app, in real Chromium at a phone's width and a desktop's: the
 * recovery-code screen that follows the confirmation had no way back, so a user whose app showed a code but did not
 * keep the entry was stuck with a second factor they could not use. "Set up the app again" (after a dialog saying what
 * stops working) removes the confirmed key — never shown again — and shows a new QR code, the focus on the code field;
 * confirming the new key gives new recovery codes. Cancelling the dialog changes nothing. Before confirming, the QR
 * code step had no way out either: its Cancel removes it and gives the focus back to the button that opened it.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../../server/src/services/totp.js';
import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  expectNoOverflow,
  focusedName,
  signedInPage,
  startBrowserServer,
  stopBrowserServer,
  tabTo,
} from './support/browser.js';

const WIDTHS = [390, 1280] as const;
const email = (width: number): string => `start-over-${width}@jot.test`;

/** The key the enrolment form shows, without its spaces. */
async function shownSecret(page: Page): Promise<string> {
  return (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
}

/** Types the current code of the key on screen and confirms; waits for the recovery codes; returns the key. */
async function confirmShownKey(page: Page): Promise<string> {
  const secret = await shownSecret(page);
  await page.locator('#totp-code').fill(totpCode(base32Decode(secret), Date.now()));
  await page.getByRole('button', { name: 'Confirm' }).click();
  await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
  return secret;
}

const shownCodes = (page: Page): Promise<string[]> =>
  page.getByRole('region', { name: 'Your recovery codes' }).locator('code').allTextContents();

describe.runIf(available)('setting up the authenticator app again from the recovery-code screen', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(
    async () => ({ server, browser } = await startBrowserServer({ verifiedAccounts: WIDTHS.map(email) })),
  );
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`replaces the confirmed key with a new one, by keyboard, at ${width} px`, async () => {
      const page = await signedInPage({ server, browser }, contexts, email(width), { width, height: 844 });
      const user = (await server.app.jot.store.getUserByEmail(email(width)))!;
      const factors = () => server.app.jot.store.mfa.listFactors(user.id);
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const first = await confirmShownKey(page);
      const firstCodes = await shownCodes(page);
      await expectNoOverflow(page, `recovery codes at ${width} px`);

      // Cancelling the dialog leaves the app set up and the codes on screen.
      expect(await tabTo(page, 'totp-again')).toBe(true);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: 'Set up the authenticator app again?' });
      await dialog.waitFor();
      expect(await dialog.textContent()).toMatch(/recovery codes shown stop working/);
      await page.keyboard.press('Escape');
      await page.getByText('Cancelled: nothing was changed.').waitFor();
      expect(await shownCodes(page)).toEqual(firstCodes);
      expect((await factors()).filter((f) => f.confirmedAt !== null)).toHaveLength(1);

      // Set up again: a new key, the old one gone, the codes that stopped working off the screen.
      expect(await tabTo(page, 'totp-again')).toBe(true);
      await page.keyboard.press('Enter');
      await dialog.getByRole('button', { name: 'Set up again' }).click();
      await page.getByRole('heading', { name: 'Scan this code with your authenticator app' }).waitFor();
      expect(await focusedName(page)).toBe('#totp-code');
      const second = await shownSecret(page);
      expect(second).not.toBe(first);
      expect(await page.getByRole('region', { name: 'Your recovery codes' }).count()).toBe(0);
      await page.getByText('Two-step verification is off.', { exact: false }).waitFor();
      const left = await factors();
      expect(left.map((f) => f.confirmedAt)).toEqual([null]);
      await expectNoOverflow(page, `the new QR code at ${width} px`);

      // The new key confirms, with new recovery codes.
      expect(await confirmShownKey(page)).toBe(second);
      expect(await shownCodes(page)).not.toEqual(firstCodes);
      expect((await factors()).map((f) => f.confirmedAt !== null)).toEqual([true]);
    });
  }

  for (const width of WIDTHS) {
    it(`gives up before confirming with Cancel, the focus back on the button that started, at ${width} px`, async () => {
      const page = await signedInPage({ server, browser }, contexts, `cancel-${width}@jot.test`, {
        width,
        height: 844,
        register: 'verified',
      });
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const form = page.locator('form.totp-enrolment');
      await form.waitFor();
      await expectNoOverflow(page, `the QR code with Cancel at ${width} px`);
      await form.getByRole('button', { name: 'Cancel' }).click();
      await form.waitFor({ state: 'detached' });
      expect(await focusedName(page)).toBe('#totp-start');
      // Starting again shows a form again (the pending key was replaced).
      await page.keyboard.press('Enter');
      await form.waitFor();
      expect(await focusedName(page)).toBe('#totp-code');
    });
  }
});
