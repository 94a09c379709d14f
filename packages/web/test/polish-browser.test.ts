/**
 * Details a user walkthrough found, in real Chromium: the admin tables stay inside the page at a phone's, a small
 * laptop's and a desktop's width with realistic rows (a user with two-step sign-in has an extra button), the admin
 * forms' checkboxes keep their size beside long labels and their selects look like their inputs, the account page
 * shows the claims of the token the session holds now (after an authenticator app raised it to aal2), and a new
 * action's message takes the place of an earlier one instead of piling up beside it.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../../server/src/services/totp.js';
import type { TestServer } from '../../server/test/support/jot-server.js';
import { enrolTotp } from '../../server/test/support/totp-enrolment.js';
import {
  available,
  horizontalOverflow,
  PASSWORD,
  signedInPage,
  startBrowserServer,
  stopBrowserServer,
} from './support/browser.js';

const ADMIN = 'admin@polish.test';
const MFA_USER = 'a.person.with.a.rather.long.address@two-step.polish.test';
const USER = 'user@polish.test';
const UA =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe.runIf(available)('polish', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const bearer = async (email: string): Promise<string> => {
    const login = await server.request('POST', '/api/login', {
      body: { email, password: PASSWORD, delivery: 'bearer' },
      headers: { 'user-agent': UA },
    });
    expect(login.status, login.text).toBe(200);
    return login.body.access_token as string;
  };

  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer({
      accounts: [ADMIN, USER],
      verifiedAccounts: [MFA_USER],
    }));
    const { store } = server.app.jot;
    await store.setRoles((await store.getUserByEmail(ADMIN))!.id, ['admin']);
    await store.setRoles((await store.getUserByEmail(MFA_USER))!.id, ['editor', 'billing-viewer']);
    await enrolTotp(server, await bearer(MFA_USER));
    const admin = await bearer(ADMIN);
    for (const [name, method] of [
      ['Orders service with a fairly long display name', 'client_secret_basic'],
      ['Reporting', 'client_secret_post'],
    ] as const) {
      const client = await server.request('POST', '/api/admin/clients', {
        token: admin,
        body: {
          name,
          client_id: `${name.split(' ')[0]!.toLowerCase()}-service-with-a-long-identifier`,
          token_endpoint_auth_method: method,
          grant_types: ['client_credentials', 'urn:ietf:params:oauth:grant-type:token-exchange'],
          scopes: ['orders:read', 'orders:write', 'invoices:read'],
          audiences: ['https://orders.internal.example.com/api/v1', 'https://billing.internal.example.com'],
        },
      });
      expect(client.status, client.text).toBe(201);
    }
    const invited = await server.request('POST', '/api/admin/invitations', {
      token: admin,
      body: { email: 'a.rather.long.invited.address@subdomain.polish.test', roles: ['editor', 'viewer'] },
    });
    expect(invited.status, invited.text).toBe(201);
    for (let i = 0; i < 2; i++) {
      const rotated = await server.request('POST', '/api/admin/keys/rotate', { token: admin, body: {} });
      expect(rotated.status, rotated.text).toBe(201);
    }
    // Failed sign-ins and sessions from other devices: rows in the events and sessions tables.
    for (let i = 0; i < 3; i++)
      await server.request('POST', '/api/login', {
        body: { email: MFA_USER, password: 'not the password' },
        headers: { 'user-agent': UA },
      });
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  async function expectFits(page: Page, what: string): Promise<void> {
    await page.waitForFunction(() => !document.getElementById('main')?.hasAttribute('aria-busy'));
    await page.waitForTimeout(100);
    const measured = await horizontalOverflow(page);
    expect({ what, ...measured }).toEqual({ what, overflow: 0, culprits: [] });
  }

  for (const width of [390, 700, 820, 1024, 1280])
    it(`${width} px: the admin tables and the sessions table stay inside the page`, async () => {
      const page = await signedInPage({ server, browser }, contexts, ADMIN, { width });
      await page.getByRole('table').first().waitFor();
      await expectFits(page, '/account');
      for (const [path, title] of [
        ['/admin/users', 'Users'],
        ['/admin/invitations', 'Invitations'],
        ['/admin/clients', 'OAuth clients'],
        ['/admin/keys', 'Signing keys'],
        ['/admin/events', 'Security events'],
      ] as const) {
        await page.goto(`${server.url}/#${path}`);
        await page.getByRole('heading', { name: title, level: 1 }).waitFor();
        await page.locator('main table').first().waitFor();
        if (path === '/admin/users')
          await page.getByRole('button', { name: `Reset MFA of ${MFA_USER}` }).waitFor();
        await expectFits(page, path);
      }
      // The buttons of a row are all reachable from the keyboard, in order.
      await page.goto(`${server.url}/#/admin/users`);
      const reset = page.getByRole('button', { name: `Reset MFA of ${MFA_USER}` });
      await reset.focus();
      const order: string[] = [];
      for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Tab');
        order.push(await page.evaluate(() => document.activeElement?.getAttribute('aria-label') ?? ''));
      }
      expect(order).toEqual([`Sign ${MFA_USER} out everywhere`, `Disable ${MFA_USER}`, `Delete ${MFA_USER}`]);
    });

  for (const width of [390, 1280])
    it(`${width} px: checkboxes keep their size beside long labels; selects look like the inputs`, async () => {
      const page = await signedInPage({ server, browser }, contexts, ADMIN, { width });
      const box = (selector: string): Promise<{ width: number; height: number }> =>
        page.locator(selector).evaluate((el) => {
          const r = el.getBoundingClientRect();
          return { width: Math.round(r.width), height: Math.round(r.height) };
        });
      // A tap target of a reasonable size: the box and its label's row together.
      const row = (selector: string): Promise<number> =>
        page.locator(selector).evaluate((el) => el.parentElement!.getBoundingClientRect().height);
      await page.goto(`${server.url}/#/admin/clients`);
      await page.getByRole('heading', { name: 'Register a client' }).waitFor();
      const boxes = ['#client-grant-0', '#client-grant-1', '#client-dpop', '#client-introspection'];
      for (const selector of boxes) {
        const size = await box(selector);
        expect({ selector, square: size.width === size.height, big: size.width >= 18 }).toEqual({
          selector,
          square: true,
          big: true,
        });
        expect(await row(selector)).toBeGreaterThanOrEqual(24);
      }
      const select = await box('#client-method');
      const input = await box('#client-name');
      expect(select.height).toBe(input.height);
      expect(
        await page
          .locator('#client-method')
          .evaluate((el) => [getComputedStyle(el).borderTopWidth, getComputedStyle(el).borderRadius]),
      ).toEqual(
        await page
          .locator('#client-name')
          .evaluate((el) => [getComputedStyle(el).borderTopWidth, getComputedStyle(el).borderRadius]),
      );
      // Clicking the label still ticks the box, and the label names it.
      await page.locator('label[for="client-dpop"]').click();
      expect(await page.locator('#client-dpop').isChecked()).toBe(true);
      expect(await page.getByRole('checkbox', { name: /^Require DPoP/ }).count()).toBe(1);

      await page.goto(`${server.url}/#/admin/keys`);
      await page.getByRole('heading', { name: 'Rotate' }).waitFor();
      for (const selector of ['#rotate-immediate', '#rotate-withdraw']) {
        const size = await box(selector);
        expect({ selector, ...size }).toEqual({ selector, width: size.height, height: size.height });
        expect(size.width).toBeGreaterThanOrEqual(18);
      }
    });

  it('after an authenticator app is confirmed the claims shown are the aal2 token’s', async () => {
    const email = 'claims@polish.test';
    const page = await signedInPage({ server, browser }, contexts, email, {
      width: 1280,
      register: 'verified',
    });
    /** The value shown for the claim `name`. */
    const claim = (name: string): Promise<string | undefined> =>
      page.evaluate((n) => {
        const dt = Array.from(document.querySelectorAll('dl.claims dt')).find(
          (d) => d.querySelector('code')?.textContent === n,
        );
        return dt?.nextElementSibling?.textContent ?? undefined;
      }, name);
    expect([await claim('acr'), await claim('amr')]).toEqual(['aal1', '["pwd"]']);
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
    await page.locator('#totp-code').fill(totpCode(base32Decode(secret), Date.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    await expect.poll(() => claim('acr')).toBe('aal2');
    expect(await claim('amr')).toMatch(/otp/);
    // The focus stays on the recovery codes to save.
    expect(
      await page.evaluate(
        () => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.id,
      ),
    ).toBe('Your recovery codes');
  });

  it('a new action’s message takes the place of the earlier ones', async () => {
    await server.request('POST', '/api/login', {
      body: { email: USER, password: PASSWORD },
      headers: { 'user-agent': UA },
    });
    const page = await signedInPage({ server, browser }, contexts, USER, { width: 1280 });
    await page.getByRole('button', { name: /^Revoke session (\d+ )?from .*Chrome\/131/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    const revoked = page.getByText('Session revoked.');
    await revoked.waitFor();
    await page.locator('#current-password').fill('not the password');
    await page.locator('#new-password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('form[aria-labelledby="password-h"]').getByRole('alert').waitFor();
    expect(await revoked.count()).toBe(0);
    expect(await page.locator('main .msg-error, main .msg-ok').count()).toBe(1);
    // The focus stays on the button pressed.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Change password');
    await page.locator('#current-password').fill(PASSWORD);
    await page.locator('#new-password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.getByText('Password changed. Your other sessions were signed out.').waitFor();
    expect(await page.locator('main [role="alert"]').count()).toBe(0);

    // The sign-in page: "You are signed out." is gone once the password was right.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    const notice = page.getByText('You are signed out.');
    await notice.waitFor();
    await page.locator('#signin-email').fill(MFA_USER);
    await page.locator('#signin-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
    expect(await notice.count()).toBe(0);
    // The heading no longer points at a notice that is gone.
    const describedBy = await page
      .getByRole('heading', { name: 'Sign in to Jot' })
      .getAttribute('aria-describedby');
    for (const id of (describedBy ?? '').split(' ').filter((i) => i !== ''))
      expect(await page.locator(`#${id}`).count()).toBe(1);
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('signin-mfa-code');
  });
});
