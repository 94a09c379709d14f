/**
 * Two-step verification in real Chromium, with a virtual authenticator from the DevTools protocol's WebAuthn domain
 * (through playwright-core): setting up an authenticator app from the QR code page, registering a passkey, signing in
 * with the password and the passkey as second factor, passwordless sign-in with the passkey, and a step-up dialog
 * answered with the passkey. The server runs on http://localhost:<port> (a WebAuthn RP id must be a domain) in cookie
 * mode. Without /usr/bin/chromium the suite is skipped with a warning, except in CI.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { verifyAddressOf } from '../../server/test/support/jot-server.js';

import type { Browser, BrowserContext, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../../server/src/services/totp.js';
import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  ensureBuilt,
  horizontalOverflow,
  launchChromium,
  PASSWORD,
  SHOTS,
  warnIfUnavailable,
} from './support/browser.js';
import { addVirtualAuthenticator, startPasskeyServer } from './support/passkeys.js';

const EMAIL = 'mfa-admin@jot.test';

warnIfUnavailable('the passkey browser tests are');

describe.runIf(available || process.env.CI !== undefined)(
  'two-step verification and passkeys in Chromium',
  () => {
    let server: TestServer;
    let origin: string;
    let browser: Browser;
    let context: BrowserContext;
    let page: Page;
    let cdp: CDPSession;
    let adminId: string;
    let authenticatorId: string;

    const shot = (name: string) => page.screenshot({ path: resolve(SHOTS, `${name}.png`) });
    const claims = () =>
      page.evaluate(async () => {
        const res = await fetch('/api/whoami', { credentials: 'include' });
        return ((await res.json()) as { claims: Record<string, unknown> }).claims;
      });

    async function signOut(): Promise<void> {
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    }

    async function passwordStep(): Promise<void> {
      await page.locator('#signin-email').fill(EMAIL);
      await page.locator('#signin-password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    }

    beforeAll(async () => {
      await ensureBuilt();
      ({ server, origin } = await startPasskeyServer());
      const reg = await server.request('POST', '/api/register', {
        body: { email: EMAIL, password: PASSWORD, name: 'Ada Admin' },
      });
      expect(reg.status).toBe(201);
      adminId = reg.body.id;
      await verifyAddressOf(server, adminId);
      mkdirSync(SHOTS, { recursive: true });
      browser = await launchChromium();
      context = await browser.newContext({ viewport: { width: 1000, height: 800 } });
      page = await context.newPage();
      ({ cdp, authenticatorId } = await addVirtualAuthenticator(page));
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('sets up an authenticator app from the QR code page and shows the recovery codes once', async () => {
      await page.goto(`${origin}/`);
      await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
      await passwordStep();
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      const qr = page.getByRole('img', { name: 'QR code of the authenticator-app secret' });
      await qr.waitFor();
      expect(await qr.evaluate((el) => el.tagName.toLowerCase())).toBe('svg');
      const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      await shot('mfa-enrolment');
      await page.locator('#totp-code').fill(totpCode(base32Decode(secret), Date.now()));
      await page.getByRole('button', { name: 'Confirm' }).click();
      const codes = page.getByRole('region', { name: 'Your recovery codes' }).locator('li');
      await codes.first().waitFor();
      expect(await codes.count()).toBe(10);
      await page.getByText('Two-step verification is on. Recovery codes left: 10 of 10.').waitFor();
      await shot('mfa-recovery-codes');
      // The session itself now stands at the multi-factor level.
      expect(await claims()).toMatchObject({ acr: 'aal2', amr: ['pwd', 'otp', 'mfa'] });
    });

    it('registers a passkey with a name (virtual authenticator)', async () => {
      await page.locator('#passkey-name').fill('Laptop');
      await page.getByRole('button', { name: 'Add a passkey' }).click();
      await page.locator('#mfa-out .msg').waitFor();
      expect(await page.locator('#mfa-out').textContent()).toBe('Passkey added.');
      const row = page.getByRole('row').filter({ hasText: 'Laptop' });
      await expect(row.getByRole('cell').nth(1).textContent()).resolves.toBe('Passkey');
      const { credentials } = (await cdp.send('WebAuthn.getCredentials', {
        authenticatorId,
      })) as { credentials: { isResidentCredential: boolean }[] };
      expect(credentials).toHaveLength(1);
      expect(credentials[0]!.isResidentCredential).toBe(true);
      await shot('mfa-account');
    });

    it('signs in with the password, then the passkey as second factor', async () => {
      await signOut();
      await passwordStep();
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await shot('mfa-second-step');
      await page.getByRole('button', { name: 'Use a passkey' }).click();
      await page.getByRole('heading', { name: 'My account' }).waitFor();
      expect(await claims()).toMatchObject({ acr: 'aal2', amr: ['pwd', 'hwk', 'mfa'] });
    });

    it('signs in without a password: passkey with user verification', async () => {
      await signOut();
      await page.getByRole('button', { name: 'Continue with a passkey' }).click();
      await page.getByRole('heading', { name: 'My account' }).waitFor();
      expect(await claims()).toMatchObject({ acr: 'aal2', amr: ['hwk', 'user', 'mfa'] });
    });

    it('answers a step-up with the passkey when removing a factor', async () => {
      // The theft signals' `step_up` response does exactly this: the session must authenticate afresh.
      for (const s of await server.app.jot.store.listSessionsForUser(adminId)) {
        await server.app.jot.store.setSessionAuthentication(s.id, { authTime: 0, amr: ['pwd'], acr: 'aal1' });
      }
      await page.getByRole('button', { name: 'Remove Authenticator app' }).click();
      await page
        .getByRole('dialog', { name: 'Remove Authenticator app?' })
        .getByRole('button', { name: 'Remove' })
        .click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await shot('mfa-step-up');
      await dialog.getByRole('button', { name: 'Use a passkey' }).click();
      await page.getByText('Authenticator app removed.').waitFor();
      expect(await dialog.count()).toBe(0);
      await expect(page.getByRole('row').filter({ hasText: 'Authenticator app' }).count()).resolves.toBe(0);
    });

    it('shows admins who has two-step verification; the account page fits 390 px', async () => {
      await page.goto(`${origin}/#/admin/users`);
      const row = page.getByRole('row').filter({ hasText: EMAIL });
      await row.getByText('on (1 passkey(s))').waitFor();
      await page.setViewportSize({ width: 390, height: 844 });
      await page.goto(`${origin}/#/account`);
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      expect(await horizontalOverflow(page)).toMatchObject({ overflow: 0, culprits: [] });
      await page.setViewportSize({ width: 1000, height: 800 });
    });
  },
);
