/**
 * Second-factor flows in real Chromium that need a fresh two-factor sign-in midway: a password change after the
 * step-up window, the admin pages with JOT_MFA_REQUIRED=admins for an admin whose first factor is a passkey (the
 * session stays one-factor), and the recovery-code field (letters, so no numeric keypad).
 * Server: cookie mode on http://localhost:<port>, WebAuthn, JOT_MFA_REQUIRED=admins.
 */
import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { totpCode } from '../../server/src/services/totp.js';
import type { TestServer } from '../../server/test/support/jot-server.js';
import { enrolTotp } from '../../server/test/support/totp-enrolment.js';
import { verifyAddressOf } from '../../server/test/support/jot-server.js';
import { available, ensureBuilt, launchChromium, openPage, PASSWORD } from './support/browser.js';
import { addVirtualAuthenticator, startPasskeyServer } from './support/passkeys.js';

const ADMIN = 'admin@mfa-flows.test';
const USER = 'user@mfa-flows.test';

describe.runIf(available)('second-factor flows that step up midway', () => {
  let server: TestServer;
  let origin: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let userSecret: Buffer;
  let recoveryCodes: string[];

  async function newPage(): Promise<{ page: Page; cdp: CDPSession }> {
    const page = await openPage(browser, contexts);
    const { cdp } = await addVirtualAuthenticator(page);
    return { page, cdp };
  }

  async function passwordStep(page: Page, email: string): Promise<void> {
    await page.goto(`${origin}/#/signin`);
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    await page.locator('#signin-email').fill(email);
    await page.locator('#signin-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  beforeAll(async () => {
    await ensureBuilt();
    ({ server, origin } = await startPasskeyServer({ mfaRequired: 'admins' }));
    for (const email of [ADMIN, USER]) {
      const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
      expect(reg.status).toBe(201);
      await verifyAddressOf(server, reg.body.id as string);
    }
    // USER gets an authenticator app through the API.
    const login = await server.request('POST', '/api/login', {
      body: { email: USER, password: PASSWORD, delivery: 'bearer' },
    });
    const enrolment = await enrolTotp(server, login.body.access_token as string);
    userSecret = enrolment.secret;
    recoveryCodes = enrolment.confirmed.body.recovery_codes as string[];
    browser = await launchChromium();
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await server?.close();
  });

  it('with an app, the code field is numeric until "Use a recovery code" makes it take letters', async () => {
    const { page } = await newPage();
    await passwordStep(page, USER);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    const code = page.locator('#signin-mfa-code');
    expect(await code.getAttribute('inputmode')).toBe('numeric');
    await page.getByRole('button', { name: 'Use a recovery code' }).click();
    expect(await code.evaluate((el) => (el as HTMLInputElement).inputMode)).toBe('text');
    await page.getByLabel('Recovery code', { exact: true }).waitFor();
  });

  it('a user with an authenticator app can change the password once the sign-in is older than the step-up window', async () => {
    const { page } = await newPage();
    await passwordStep(page, USER);
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    // The code of the next 30-second step (the current one was spent confirming the app).
    await page.locator('#signin-mfa-code').fill(totpCode(userSecret, Date.now() + 30_000));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    // The sign-in is now "old" (as after JOT_STEP_UP_MAX_AGE, or a theft signal's step_up response).
    const userId = (await server.app.jot.store.getUserByEmail(USER))!.id;
    for (const s of await server.app.jot.store.listSessionsForUser(userId))
      await server.app.jot.store.setSessionAuthentication(s.id, { authTime: 0, amr: ['pwd'], acr: 'aal1' });

    await page.locator('#current-password').fill(PASSWORD);
    await page.locator('#new-password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    const form = page.locator('form[aria-labelledby="password-h"]');
    // The step-up dialog asks for the second factor, then the change goes through.
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    // The app's codes of this step and the next are spent (confirming it, signing in): a recovery code, typed
    // into the field once it takes letters.
    await dialog.getByRole('button', { name: 'Use a recovery code' }).click();
    await dialog.getByLabel('Recovery code', { exact: true }).fill(recoveryCodes[0]!);
    await dialog.getByRole('button', { name: 'Verify' }).click();
    await expect
      .poll(() => form.locator('.msg').textContent())
      .toBe('Password changed. Your other sessions were signed out.');
    // The session that changed it goes on.
    await page.reload();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
  });

  it('an admin whose first factor is a passkey (JOT_MFA_REQUIRED=admins) can open the admin pages', async () => {
    const { page } = await newPage();
    await passwordStep(page, ADMIN);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    // Admin pages need a factor: the admin adds a passkey, the natural first factor.
    await page.locator('#passkey-name').fill('Laptop');
    await page.getByRole('button', { name: 'Add a passkey' }).click();
    await page.locator('#mfa-out .msg').waitFor();
    expect(await page.locator('#mfa-out').textContent()).toBe('Passkey added.');
    await page.getByRole('link', { name: 'Users' }).click();
    // Reading the users needs a two-factor session: the page asks for the passkey instead of stopping.
    const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Use a passkey' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.locator('main table').waitFor();
    expect(await page.locator('main .msg-error').count()).toBe(0);
  });

  it('the recovery-code field does not force a numeric keypad (recovery codes have letters)', async () => {
    const { page } = await newPage();
    await passwordStep(page, ADMIN); // ADMIN now has a passkey + recovery codes, no app
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    const field = page.getByLabel('Recovery code', { exact: true });
    await field.waitFor();
    expect(await field.getAttribute('inputmode')).toBe('text');
  });
});
