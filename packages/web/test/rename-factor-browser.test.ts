/**
 * Renaming a second factor, in real Chromium at a phone's width (390 px) and a desktop's (1280 px): no blocking
 * browser dialog (`window.prompt`) but a form in the factor's own row — the authenticator app's or a passkey's — with
 * the name to edit: Enter saves, Escape and Cancel give up, the focus goes to the text field and back to Rename, and a
 * refusal shows in the form in the server's words.
 */
import { randomUUID } from 'node:crypto';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import { enrolTotp } from '../../server/test/support/totp-enrolment.js';
import {
  available,
  expectNoOverflow,
  focusedName,
  PASSWORD,
  signedInPage,
  startBrowserServer,
  stopBrowserServer,
} from './support/browser.js';

const WIDTHS = [390, 1280] as const;

describe.runIf(available)('renaming a second factor in its row', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** What has the focus (see focusedName), once the page has had 200 ms to move it. */
  const focused = async (page: Page): Promise<string> => {
    await page.waitForTimeout(200);
    return focusedName(page);
  };
  /**
   * A new account's page, signed in, that records every browser dialog (prompt, alert, confirm) anything opens — from
   * before it signs in — and dismisses it.
   */
  const newPage = async (email: string, width: number): Promise<{ page: Page; dialogs: string[] }> => {
    const dialogs: string[] = [];
    const page = await signedInPage({ server, browser }, contexts, email, {
      width,
      register: 'verified',
      prepare: (opened) =>
        opened.on('dialog', (d) => {
          dialogs.push(`${d.type()}: ${d.message()}`);
          void d.dismiss();
        }),
    });
    return { page, dialogs };
  };

  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer());
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`${width} px: a second factor is renamed in its row, without a browser dialog`, async () => {
      const email = `rename-${width}@rename.test`;
      const { page, dialogs } = await newPage(email, width);
      // The factors: an authenticator app and two passkeys (rows of the store: only their names matter here).
      const login = await server.request('POST', '/api/login', {
        body: { email, password: PASSWORD, delivery: 'bearer' },
      });
      const { factorId: app } = await enrolTotp(server, login.body.access_token as string);
      const { store } = server.app.jot;
      const user = (await store.getUserByEmail(email))!;
      const passkey = async (name: string): Promise<string> => {
        const id = randomUUID();
        await store.mfa.insertFactor({
          id,
          userId: user.id,
          kind: 'webauthn',
          name,
          credentialId: randomUUID(),
          publicKey: 'not-a-key',
          confirmedAt: Date.now(),
        });
        return id;
      };
      const laptop = await passkey('Old laptop');
      const lost = await passkey('Lost key');
      await page.reload();
      const factors = page.getByRole('table', { name: 'Your second factors' });
      await factors.getByRole('row', { name: /Lost key/ }).waitFor();

      // Rename opens a form in the row, the current name selected in its field.
      await page.getByRole('button', { name: 'Rename Authenticator app' }).click();
      const form = page.getByRole('form', { name: 'Rename Authenticator app' });
      const input = form.getByRole('textbox', { name: 'New name for Authenticator app' });
      await input.waitFor();
      expect(await input.inputValue()).toBe('Authenticator app');
      expect(await focused(page)).toBe(`#rename-factor-${app}-name`);
      expect(
        await factors
          .getByRole('row', { name: /Authenticator app/ })
          .locator(form)
          .count(),
      ).toBe(1);
      await expectNoOverflow(page, 'rename form');

      // Escape and Cancel give up: the name is back, the focus on Rename.
      await input.fill('Not this');
      await page.keyboard.press('Escape');
      await form.waitFor({ state: 'detached' });
      expect(await focused(page)).toBe(`#rename-factor-${app}`);
      await page.getByRole('button', { name: 'Rename Authenticator app' }).click();
      await input.fill('Not this either');
      await form.getByRole('button', { name: 'Cancel' }).click();
      await form.waitFor({ state: 'detached' });
      expect(await focused(page)).toBe(`#rename-factor-${app}`);
      expect((await store.mfa.listFactors(user.id)).find((f) => f.id === app)?.name).toBe(
        'Authenticator app',
      );

      // Enter saves; the focus is back on the (new) Rename button.
      await page.getByRole('button', { name: 'Rename Authenticator app' }).click();
      await input.fill('Work phone');
      await input.press('Enter');
      await page.getByText('Renamed to Work phone.').waitFor();
      await factors.getByText('Work phone', { exact: true }).waitFor();
      expect(await focused(page)).toBe(`#rename-factor-${app}`);
      expect((await store.mfa.listFactors(user.id)).find((f) => f.id === app)?.name).toBe('Work phone');

      // A passkey is renamed the same way, with Save.
      await page.getByRole('button', { name: 'Rename Old laptop' }).click();
      await page.getByRole('textbox', { name: 'New name for Old laptop' }).fill('  Travel laptop ');
      await page
        .getByRole('form', { name: 'Rename Old laptop' })
        .getByRole('button', { name: 'Save' })
        .click();
      await page.getByText('Renamed to Travel laptop.').waitFor();
      expect(await focused(page)).toBe(`#rename-factor-${laptop}`);

      // The server refuses (the passkey was removed meanwhile): its message shows in the form, which stays open.
      await page.getByRole('button', { name: 'Rename Lost key' }).click();
      const lostForm = page.getByRole('form', { name: 'Rename Lost key' });
      expect(await store.mfa.removeFactors(user.id, { id: lost })).toBe(1);
      await lostForm.getByRole('textbox').fill('Found key');
      await lostForm.getByRole('button', { name: 'Save' }).click();
      const alert = lostForm.getByRole('alert');
      await alert.waitFor();
      expect(await alert.textContent()).toBe('No such factor.');
      expect(await alert.getAttribute('class')).toBe('msg msg-error');
      expect(await focused(page)).toBe('Save');
      await expectNoOverflow(page, 'rename error');
      // A blank name is not sent.
      await lostForm.getByRole('textbox').fill('   ');
      await lostForm.getByRole('textbox').press('Enter');
      await lostForm.getByText('Give it a name, or cancel.').waitFor();
      await page.keyboard.press('Escape');
      await lostForm.waitFor({ state: 'detached' });
      expect(await focused(page)).toBe(`#rename-factor-${lost}`);

      expect(dialogs).toEqual([]);
    });
  }
});
