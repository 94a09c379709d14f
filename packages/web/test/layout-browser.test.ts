/**
 * Layout of every page and dialog at a phone's width (390 px) and a desktop's (1280 px), in real Chromium: nothing
 * reaches beyond the viewport horizontally (document.documentElement.scrollWidth ≤ clientWidth, and nothing sticks
 * out unclipped), and every dialog fits the screen. Covers what the other suites measure at one width only or not at
 * all: the pages the links in messages open (with real tokens, from a real SMTP server), the sign-in page with its
 * notices, the sign-in's second step, the confirmation and step-up dialogs (password and second factor), setting up
 * an authenticator app and the recovery codes — plus the return to the page asked for after a two-step sign-in.
 * Parts that follow one another keep apart: the users pager and the "Create a user" form under it (they touched).
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import { linkIn, startSmtp, type ReceivedMail, type TestSmtp } from '../../server/test/support/smtp.js';
import { enrolTotp } from '../../server/test/support/totp-enrolment.js';
import { verifyAddressOf } from '../../server/test/support/jot-server.js';
import {
  available,
  ensureBuilt,
  horizontalOverflow,
  launchChromium,
  openPage,
  PASSWORD,
  signInWithForm,
  stopMailBrowserServer,
} from './support/browser.js';
import { startPasskeyServer } from './support/passkeys.js';

const ADMIN = 'admin@layout.test';
const MFA_ADMIN = 'mfa-admin@layout.test';
const WIDTHS = [390, 1280] as const;

describe.runIf(available)('layout at 390 px and 1280 px', () => {
  let smtp: TestSmtp;
  let server: TestServer;
  let origin: string;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  let recoveryCodes: string[] = [];

  const mailTo = (address: string, subject: RegExp): Promise<ReceivedMail> =>
    smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject));
  const bearer = async (email: string): Promise<string> => {
    const login = await server.request('POST', '/api/login', {
      body: { email, password: PASSWORD, delivery: 'bearer' },
    });
    expect(login.status, login.text).toBe(200);
    return login.body.access_token as string;
  };
  /** Every session of `email` now counts as an old, one-factor sign-in: the next sensitive action steps up. */
  const ageSessions = async (email: string): Promise<void> => {
    const { store } = server.app.jot;
    const user = (await store.getUserByEmail(email))!;
    for (const s of await store.listSessionsForUser(user.id))
      await store.setSessionAuthentication(s.id, { authTime: 0, amr: ['pwd'], acr: 'aal1' });
  };

  /**
   * Expects at least `min` px between the bottom of `upper` and the top of `lower` on `page` (each the first element
   * the selector finds): neither touching nor overlapping. `what` names them in a failure.
   */
  async function expectApart(
    page: Page,
    upper: string,
    lower: string,
    min: number,
    what: string,
  ): Promise<void> {
    const [a, b] = await Promise.all([
      page.locator(upper).first().boundingBox(),
      page.locator(lower).first().boundingBox(),
    ]);
    expect({ what, upper: a !== null, lower: b !== null }).toEqual({ what, upper: true, lower: true });
    const gap = b!.y - (a!.y + a!.height);
    expect({ what, gap, apart: gap >= min }).toEqual({ what, gap, apart: true });
  }

  /** Waits for the page to settle, then expects no horizontal overflow and every open dialog inside the screen. */
  async function expectFits(page: Page, what: string): Promise<void> {
    await page.waitForFunction(() => !document.getElementById('main')?.hasAttribute('aria-busy'));
    await page.waitForTimeout(100);
    const width = await page.evaluate(() => document.documentElement.clientWidth);
    const measured = await horizontalOverflow(page);
    const scroll = await page.evaluate(
      () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
    );
    const dialogs = await page.evaluate(() =>
      Array.from(document.querySelectorAll('dialog[open]')).map((d) => {
        const r = d.getBoundingClientRect();
        return r.left >= 0 && r.right <= document.documentElement.clientWidth;
      }),
    );
    expect({ what, width, scroll, ...measured, dialogsInside: dialogs.every(Boolean) }).toEqual({
      what,
      width,
      scroll: 0,
      overflow: 0,
      culprits: [],
      dialogsInside: true,
    });
  }

  beforeAll(async () => {
    await ensureBuilt();
    smtp = await startSmtp();
    ({ server, origin } = await startPasskeyServer({ smtpUrl: smtp.url, mailRetryBase: '1s' }));
    for (const email of [ADMIN, MFA_ADMIN]) {
      const reg = await server.request('POST', '/api/register', {
        body: { email, password: PASSWORD, name: 'A name long enough to wrap on a phone, or nearly' },
      });
      expect(reg.status).toBe(201);
      // Both set up an authenticator app, which needs a verified address.
      await verifyAddressOf(server, reg.body.id as string);
    }
    // A second admin, with an authenticator app (and so recovery codes).
    const mfaAdmin = (await server.app.jot.store.getUserByEmail(MFA_ADMIN))!;
    await server.app.jot.store.setRoles(mfaAdmin.id, ['admin']);
    recoveryCodes = (await enrolTotp(server, await bearer(MFA_ADMIN))).confirmed.body
      .recovery_codes as string[];
    // Something in every list: an invitation, a client with long names, several sessions.
    const admin = await bearer(ADMIN);
    const invited = await server.request('POST', '/api/admin/invitations', {
      token: admin,
      body: { email: 'a.rather.long.invited.address@subdomain.layout.test', roles: ['editor', 'viewer'] },
    });
    expect(invited.status, invited.text).toBe(201);
    const client = await server.request('POST', '/api/admin/clients', {
      token: admin,
      body: {
        name: 'Orders service with a fairly long display name',
        client_id: 'orders-service-with-a-long-identifier',
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        scopes: ['orders:read', 'orders:write', 'invoices:read'],
        audiences: ['https://orders.internal.example.com/api/v1'],
      },
    });
    expect(client.status, client.text).toBe(201);
    browser = await launchChromium();
  });
  afterAll(() => stopMailBrowserServer({ smtp, server, browser }, contexts));

  for (const width of WIDTHS) {
    it(`${width} px: the pages without a session, the links from messages with real tokens`, async () => {
      // Fresh links for this width: verification and email-change links are spent when opened.
      const unverified = `unverified-${width}@layout.test`;
      await server.request('POST', '/api/register', { body: { email: unverified, password: PASSWORD } });
      const verify = linkIn(await mailTo(unverified, /confirm your email/i));
      const mover = `mover-${width}@layout.test`;
      await server.request('POST', '/api/register', { body: { email: mover, password: PASSWORD } });
      const moved = `moved-${width}@layout.test`;
      const change = await server.request('POST', '/api/email/change', {
        token: await bearer(mover),
        body: { new_email: moved },
      });
      expect(change.status, change.text).toBe(202);
      const confirm = linkIn(await mailTo(moved, /confirm your new email/i));
      await server.request('POST', '/api/password/forgot', { body: { email: mover } });
      const reset = linkIn(await mailTo(mover, /reset your password/i));
      const invite = linkIn(await mailTo('a.rather.long.invited.address@subdomain.layout.test', /invited/i));

      const page = await openPage(browser, contexts, width);
      const visits: [string, string][] = [
        [`#/signin?next=${encodeURIComponent('/admin/users')}`, 'After signing in you go back to “Users”.'],
        ['#/forgot-password', 'Send me a link'],
        ['#/confirm-email', 'This page needs the link from the message we sent you.'],
        ['#/accept-invitation', 'This page needs the link from your invitation message.'],
        [reset.slice(reset.indexOf('#')), 'Set new password'],
        [invite.slice(invite.indexOf('#')), 'Create my account'],
        // Signed out: the first verification asks for the account's password (the link stays unspent).
        [verify.slice(verify.indexOf('#')), 'I did not create this account — reset the password'],
        // Signed out, the email-change confirmation asks for it too.
        [confirm.slice(confirm.indexOf('#')), 'Didn’t ask for this change?'],
      ];
      for (const [hash, shows] of visits) {
        await page.goto(`${origin}/${hash}`);
        await page.getByText(shows).first().waitFor();
        await expectFits(page, hash.split('?')[0]!);
      }
      await page.goto(`${origin}/#/debugger`);
      await page.getByLabel('JSON Web Token').fill(await bearer(ADMIN));
      await page.locator('[data-part="header"]').waitFor();
      await page.getByRole('button', { name: "Verify with this server's keys" }).click();
      await page.getByText(/Signature valid/).waitFor();
      await expectFits(page, '/debugger');
    });

    it(`${width} px: every signed-in page, the confirmation and password dialogs, setting up an app`, async () => {
      // Sessions from other devices, so the sessions list has rows with long user agents.
      for (const agent of [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15',
        'curl/8.5.0',
      ])
        await server.request('POST', '/api/login', {
          body: { email: ADMIN, password: PASSWORD },
          headers: { 'user-agent': agent },
        });
      const page = await openPage(browser, contexts, width);
      await signInWithForm(page, origin, ADMIN);
      await page.getByRole('table').first().waitFor();
      await expectFits(page, '/account');
      for (const [path, title] of [
        ['/admin/users', 'Users'],
        ['/admin/invitations', 'Invitations'],
        ['/admin/clients', 'OAuth clients'],
        ['/admin/keys', 'Signing keys'],
        ['/admin/events', 'Security events'],
      ] as const) {
        await page.goto(`${origin}/#${path}`);
        await page.getByRole('heading', { name: title, level: 1 }).waitFor();
        await page.locator('main table').first().waitFor();
        await expectFits(page, path);
        if (path === '/admin/users')
          await expectApart(
            page,
            'nav.pager',
            'form.create-user',
            16,
            `users pager above "Create a user" at ${width} px`,
          );
      }

      await page.goto(`${origin}/#/account`);
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      await page.getByRole('dialog', { name: 'Sign out everywhere?' }).waitFor();
      await expectFits(page, 'confirmation dialog');
      await page.keyboard.press('Escape');

      await ageSessions(ADMIN);
      await page.locator('#new-email').fill(`admin-${width}@elsewhere.layout.test`);
      await page.getByRole('button', { name: 'Change email' }).click();
      const stepUp = page.getByRole('dialog', { name: 'Confirm your password to continue' });
      await stepUp.waitFor();
      await stepUp.getByLabel('Password').fill('not the password');
      await stepUp.getByRole('button', { name: 'Confirm' }).click();
      await stepUp.getByRole('alert').waitFor();
      await expectFits(page, 'step-up dialog with its error');
      await stepUp.getByLabel('Password').fill(PASSWORD);
      await stepUp.getByRole('button', { name: 'Confirm' }).click();
      await page.getByText(/Check your inbox/).waitFor();

      await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
      await page.getByRole('img', { name: 'QR code of the authenticator-app secret' }).waitFor();
      await expectFits(page, 'authenticator app set-up');
    });

    it(`${width} px: two-step sign-in (back to the page asked for), recovery codes, the second-factor dialog`, async () => {
      const page = await openPage(browser, contexts, width);
      await page.goto(`${origin}/#/admin/keys`);
      await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
      await page.locator('#signin-email').fill(MFA_ADMIN);
      await page.locator('#signin-password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await page.getByRole('heading', { name: 'Two-step verification' }).waitFor();
      await expectFits(page, 'second step');
      await page.getByRole('button', { name: 'Use a recovery code' }).click();
      await page.getByLabel('Recovery code', { exact: true }).fill(recoveryCodes.shift()!);
      await page.getByRole('button', { name: 'Verify' }).click();
      // Back to the page the user asked for, not the account page.
      await page.getByRole('heading', { name: 'Signing keys' }).waitFor();
      expect(await page.evaluate(() => location.hash)).toBe('#/admin/keys');

      await page.goto(`${origin}/#/account`);
      await page.getByRole('button', { name: 'New recovery codes' }).click();
      const codes = page.getByRole('region', { name: 'Your recovery codes' });
      await codes.waitFor();
      recoveryCodes = (await codes.locator('code').allTextContents()).slice();
      await expectFits(page, 'recovery codes');

      await ageSessions(MFA_ADMIN);
      await page.getByRole('button', { name: 'New recovery codes' }).click();
      const dialog = page.getByRole('dialog', { name: 'Confirm it is you' });
      await dialog.waitFor();
      await dialog.getByRole('textbox').fill('000000');
      await dialog.getByRole('button', { name: 'Verify' }).click();
      await dialog.getByRole('alert').waitFor();
      await expectFits(page, 'second-factor dialog with its error');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
    });
  }
});
