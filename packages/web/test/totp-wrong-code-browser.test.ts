/**
 * A wrong first code while setting up an authenticator app, in real Chromium (cookie delivery): the account page
 * shows the server's message once, and the code is sent once — no refresh of the session and no second request
 * with the same code (which would count twice against the account's second-factor limits). The right code then
 * still confirms the app: the session was never the problem.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../../server/src/services/totp.js';
import type { TestServer } from '../../server/test/support/jot-server.js';
import { wrongTotpCode } from '../../server/test/support/totp-enrolment.js';
import { available, signedInPage, startBrowserServer, stopBrowserServer } from './support/browser.js';

const EMAIL = 'wrong-code@jot.test';

describe.runIf(available)('a wrong authenticator-app code on the account page', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const requests: string[] = [];
  const count = (path: string): number => requests.filter((r) => r === `POST ${path}`).length;

  beforeAll(async () => ({ server, browser } = await startBrowserServer({ verifiedAccounts: [EMAIL] })));
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  it('is sent once and its message shown once; the right code then confirms the app', async () => {
    const page = await signedInPage({ server, browser }, contexts, EMAIL, {
      // Every request the page sends, the sign-in's too.
      prepare: (opened) => {
        opened.on('request', (request) => {
          requests.push(`${request.method()} ${new URL(request.url()).pathname}`);
        });
      },
    });
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secretText = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
    const secret = base32Decode(secretText);
    const refreshesBefore = count('/api/token/refresh');

    await page.locator('#totp-code').fill(wrongTotpCode(secret));
    await page.getByRole('button', { name: 'Confirm' }).click();
    const alert = page.locator('form.totp-enrolment').getByRole('alert');
    await alert.waitFor();
    // Time for a retry, had there been one.
    await page.waitForTimeout(500);
    expect(await alert.count()).toBe(1);
    expect(await alert.textContent()).toMatch(/^The code is incorrect or was already used\.$/);
    expect(count('/api/mfa/totp/confirm')).toBe(1);
    expect(count('/api/token/refresh')).toBe(refreshesBefore);
    // The user is still signed in, on the same form.
    await page.getByRole('heading', { name: 'Scan this code with your authenticator app' }).waitFor();

    await page.locator('#totp-code').fill(totpCode(secret, Date.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    expect(count('/api/mfa/totp/confirm')).toBe(2);
    expect(count('/api/token/refresh')).toBe(refreshesBefore);
  });
});
