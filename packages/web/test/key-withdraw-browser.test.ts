/**
 * An admin withdraws signing keys from the keys page, in real Chromium at a phone's width (390 px) and a desktop's
 * (1280 px): a retired key's "Withdraw" is reached with the keyboard, asks first (naming what happens to its tokens),
 * and the key leaves the list and `/.well-known/jwks.json`; the emergency rotation (immediately, withdrawing every
 * older key) leaves the new key as the only one, active, and the admin still signed in. The active key never offers
 * "Withdraw", and nothing on the page reaches beyond the screen.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
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

const ADMIN = 'admin@key-withdraw.test';
const WIDTHS = [390, 1280] as const;
const CONSEQUENCE =
  'tokens signed with this key stop verifying; signed-in users get new tokens on their next refresh.';

describe.runIf(available)('an admin withdraws signing keys', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** A fresh bearer token of the admin (a fresh sign-in: no step-up needed). */
  const adminToken = async (): Promise<string> => {
    const login = await server.request('POST', '/api/login', {
      body: { email: ADMIN, password: PASSWORD, delivery: 'bearer' },
    });
    expect(login.status, login.text).toBe(200);
    return login.body.access_token as string;
  };
  const jwksKids = async (): Promise<string[]> => {
    const res = await server.request('GET', '/.well-known/jwks.json');
    expect(res.status).toBe(200);
    return (res.body.keys as { kid: string }[]).map((k) => k.kid);
  };
  const keyStates = async (): Promise<Record<string, string>> => {
    const res = await server.request('GET', '/api/admin/keys', { token: await adminToken() });
    expect(res.status).toBe(200);
    return Object.fromEntries(
      (res.body.keys as { kid: string; state: string }[]).map((k) => [k.kid, k.state]),
    );
  };

  async function fits(page: Page, width: number): Promise<void> {
    expect(await horizontalOverflow(page)).toEqual({ overflow: 0, culprits: [] });
    for (const button of await page.locator('main button').all()) {
      const box = await button.boundingBox();
      if (box !== null) expect(box.x + box.width).toBeLessThanOrEqual(width);
    }
  }

  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer({ accounts: [ADMIN] }));
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`at ${width} px: withdraws a retired key, then rotates withdrawing the ring`, async () => {
      // A retired key to withdraw: an immediate rotation retires the key that signed until now.
      const rotated = await server.request('POST', '/api/admin/keys/rotate', {
        token: await adminToken(),
        body: { immediate: true },
      });
      expect(rotated.status, rotated.text).toBe(201);
      const states = await keyStates();
      const retired = Object.keys(states).find((kid) => states[kid] === 'retired')!;
      const active = rotated.body.kid as string;
      expect(states[active]).toBe('active');
      expect(await jwksKids()).toEqual(expect.arrayContaining([retired, active]));

      const page = await signedInPage({ server, browser }, contexts, ADMIN, { width, height: 844 });
      await page.goto(`${server.url}/#/admin/keys`);
      await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
      const row = (kid: string) => page.locator('tbody tr', { has: page.getByText(kid, { exact: true }) });
      await row(active).waitFor();
      // The active key offers no Withdraw.
      expect(await row(active).getByRole('button').count()).toBe(0);
      expect(await page.getByRole('button', { name: `Withdraw key ${active}` }).count()).toBe(0);
      await fits(page, width);

      // Reached with Tab; Enter asks first with Cancel focused; Escape changes nothing.
      await page.locator('h1').focus();
      expect(await tabTo(page, `withdraw-${retired}`)).toBe(true);
      await page.keyboard.press('Enter');
      const dialog = page.getByRole('dialog', { name: `Withdraw the key ${retired}?` });
      await dialog.waitFor();
      await dialog.getByText(CONSEQUENCE).waitFor();
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
      await fits(page, width);
      await page.keyboard.press('Escape');
      await dialog.waitFor({ state: 'detached' });
      await page.getByText('Cancelled: nothing was changed.').waitFor();
      expect(await jwksKids()).toContain(retired);

      // Confirmed with the keyboard: the key leaves the list and the JWKS.
      await expect.poll(() => focusedId(page)).toBe(`withdraw-${retired}`);
      await page.keyboard.press('Enter');
      await dialog.waitFor();
      await page.keyboard.press('Shift+Tab');
      expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Withdraw');
      await page.keyboard.press('Enter');
      await page.getByText(`Withdrew key ${retired}.`).waitFor();
      await row(retired).waitFor({ state: 'detached' });
      await row(active).waitFor();
      expect(await jwksKids()).not.toContain(retired);
      expect(await jwksKids()).toContain(active);
      await fits(page, width);

      // Emergency rotation: the new key signs at once, every older key leaves the JWKS.
      const withdrawBox = page.getByRole('checkbox', { name: /Emergency rotation/ });
      await withdrawBox.focus();
      await page.keyboard.press('Space');
      expect(await page.getByRole('checkbox', { name: /immediately/ }).isChecked()).toBe(true);
      await page.getByRole('button', { name: 'Rotate now' }).click();
      const emergency = page.getByRole('dialog', { name: 'Emergency rotation: withdraw every older key?' });
      await emergency.waitFor();
      await emergency.getByText(CONSEQUENCE, { exact: false }).waitFor();
      await fits(page, width);
      await emergency.getByRole('button', { name: 'Rotate and withdraw' }).click();
      const done = page.locator('form[aria-labelledby="rotate-h"]').getByText(/^Created key /);
      await done.waitFor();
      const text = (await done.textContent()) ?? '';
      const newKid = /^Created key (\S+) \(active\)\./.exec(text)?.[1];
      expect(newKid, text).toBeDefined();
      expect(text).toContain(`Withdrew key ${active}.`);
      expect(await jwksKids()).toEqual([newKid]);
      // The list shows the new key alone, active, with no Withdraw; the old kid is gone.
      await row(active).waitFor({ state: 'detached' });
      await row(newKid!).getByText('active', { exact: true }).waitFor();
      expect(await page.locator('tbody tr').count()).toBe(1);
      expect(await page.getByRole('button', { name: /^Withdraw key / }).count()).toBe(0);
      // The admin, whose token the old key signed, is still signed in (their next refresh got a new token).
      expect(await page.evaluate(() => document.body.dataset.session)).toBe('signed-in');
      await fits(page, width);
    });
  }
});
