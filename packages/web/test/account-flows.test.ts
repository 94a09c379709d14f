/**
 * The account lifecycle in a real browser, every link taken from the message a real SMTP server received: verify
 * an email, reset a forgotten password, accept an invitation, change the email, delete the account; admins search
 * and page through users, confirm destructive actions and see emails in the events. Layout is measured: no page
 * overflows a 390 px screen, and the token debugger fills the width from 1100 to 1600 px.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from '../../server/test/support/jot-server.js';
import { linkIn, type ReceivedMail, type TestSmtp } from '../../server/test/support/smtp.js';
import {
  available,
  horizontalOverflow,
  openPage,
  PASSWORD,
  SHOTS,
  signedInPage,
  signInWithForm,
  startMailBrowserServer,
  stopMailBrowserServer,
} from './support/browser.js';

const ADMIN = 'admin@flows.test';

describe.runIf(available)('account flows in a real browser, links read from a real SMTP server', () => {
  let smtp: TestSmtp;
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  const newPage = (width = 1000): Promise<Page> => openPage(browser, contexts, width);
  const mailTo = (address: string, subject: RegExp): Promise<ReceivedMail> =>
    smtp.waitFor((m) => m.to.includes(address) && subject.test(m.subject));
  /** Follows a message's link: it must point at this server's web UI. */
  async function follow(page: Page, mail: ReceivedMail): Promise<void> {
    const link = linkIn(mail);
    expect(link.startsWith(`${server.url}/#/`)).toBe(true);
    await page.goto(link);
  }
  const signIn = (page: Page, email: string, password = PASSWORD): Promise<void> =>
    signInWithForm(page, server.url, email, password);

  beforeAll(async () => {
    ({ smtp, server, browser } = await startMailBrowserServer());
    await signUp(server, ADMIN);
    mkdirSync(SHOTS, { recursive: true });
  });
  afterAll(() => stopMailBrowserServer({ smtp, server, browser }, contexts));

  it('registers, then verifies the email from the link in the message', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#/signin`);
    await page.locator('#register-email').fill('new@flows.test');
    await page.locator('#register-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.getByText('— not verified yet').waitFor();
    await follow(page, await mailTo('new@flows.test', /confirm your email/i));
    await page.getByText('new@flows.test is verified. Thank you.').waitFor();
    // The token left the address bar as soon as the page read it.
    expect(page.url()).toBe(`${server.url}/#/verify-email`);
    await page.getByRole('link', { name: 'Continue' }).click();
    await page.getByText('— verified').waitFor();
  });

  it('sends a new verification link from the account page, and that link verifies', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#/signin`);
    await page.locator('#register-email').fill('again@flows.test');
    await page.locator('#register-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('— not verified yet').waitFor();
    await mailTo('again@flows.test', /confirm your email/i);
    const before = smtp.messages.filter((m) => m.to.includes('again@flows.test')).length;
    await page.getByRole('button', { name: 'Send a new link' }).click();
    await page.getByText('A new confirmation link is on its way to again@flows.test.').waitFor();
    const second = await smtp.waitFor(
      (m) =>
        m.to.includes('again@flows.test') &&
        smtp.messages.filter((x) => x.to.includes('again@flows.test')).indexOf(m) >= before,
    );
    await follow(page, second);
    await page.getByText('again@flows.test is verified. Thank you.').waitFor();
  });

  it('says what happened when a proxy answers with an HTML error page or the server cannot be reached', async () => {
    const page = await newPage();
    await page.goto(`${server.url}/#/forgot-password`);
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.route('**/api/password/forgot', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>Bad Gateway</body></html>' }),
    );
    await page.locator('#forgot-email').fill('someone@flows.test');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByText('The server answered 502; try again in a moment.').waitFor();
    await page.unroute('**/api/password/forgot');
    await page.route('**/api/password/forgot', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByText('The server could not be reached. Check your connection and try again.').waitFor();
    await page.unroute('**/api/password/forgot');
  });

  it('resets a forgotten password from the link, and the new password signs in', async () => {
    await signUp(server, 'forgetful@flows.test');
    const page = await newPage();
    await page.goto(`${server.url}/#/signin`);
    await page.getByRole('link', { name: 'Forgot your password?' }).click();
    await page.getByRole('heading', { name: 'Forgot your password?' }).waitFor();
    await page.locator('#forgot-email').fill('forgetful@flows.test');
    await page.getByRole('button', { name: 'Send me a link' }).click();
    await page.getByText(/a link is on its way/).waitFor();
    await follow(page, await mailTo('forgetful@flows.test', /reset your password/i));
    await page.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page.locator('#reset-password').fill('my brand new passphrase');
    await page.getByRole('button', { name: 'Set new password' }).click();
    await page.getByText('Your password was changed and every session was signed out.').waitFor();
    await page.getByRole('link', { name: 'Sign in with your new password' }).click();
    await signIn(page, 'forgetful@flows.test', 'my brand new passphrase');
  });

  it('an admin invites someone, who accepts from the link and is signed in with the invited roles', async () => {
    // A desktop width: the invitations list is a table there (below 64rem its rows are cards, whose cells are named
    // with their column's label too).
    const admin = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await admin.getByRole('link', { name: 'Invitations' }).click();
    await admin.getByRole('heading', { name: 'Invitations' }).waitFor();
    await admin.locator('#invite-new-email').fill('guest@flows.test');
    await admin.locator('#invite-new-roles').fill('editor');
    await admin.getByRole('button', { name: 'Send invitation' }).click();
    await admin.getByText('Invitation sent to guest@flows.test.').waitFor();
    await admin.getByRole('cell', { name: 'guest@flows.test', exact: true }).waitFor();
    await admin.screenshot({ path: resolve(SHOTS, 'admin-invitations.png') });

    const guest = await newPage();
    await follow(guest, await mailTo('guest@flows.test', /invited/i));
    await guest.getByRole('heading', { name: 'Accept your invitation' }).waitFor();
    expect(await guest.locator('#invite-email').inputValue()).toBe('guest@flows.test');
    await guest.locator('#invite-name').fill('Guest');
    await guest.locator('#invite-password').fill('glad to be here');
    await guest.getByRole('button', { name: 'Create my account' }).click();
    await guest.getByRole('heading', { name: 'My account' }).waitFor();
    await guest.getByText('Roles: editor.').waitFor();
  });

  it('changes the name and the email (confirmed from the link), then deletes the account after confirming', async () => {
    await signUp(server, 'mover@flows.test');
    const page = await signedInPage({ server, browser }, contexts, 'mover@flows.test');
    await page.locator('#profile-name').fill('Mover');
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByText('Name saved.').waitFor();
    await page.locator('#new-email').fill('moved@flows.test');
    await page.getByRole('button', { name: 'Change email' }).click();
    await page.getByText(/Check your inbox/).waitFor();
    await mailTo('mover@flows.test', /about to change/i);
    await follow(page, await mailTo('moved@flows.test', /confirm your new email/i));
    await page.getByText("Your account's email is now moved@flows.test.").waitFor();
    await page.goto(`${server.url}/#/account`);
    await page.getByText('Signed in as').waitFor();
    await page.locator('strong', { hasText: 'moved@flows.test' }).first().waitFor();
    await mailTo('mover@flows.test', /was changed/i);

    const dialog = page.getByRole('dialog', { name: 'Delete your account?' });
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Cancelled: nothing was changed.').waitFor();
    expect(await server.app.jot.store.getUserByEmail('moved@flows.test')).toBeDefined();
    await page.getByRole('button', { name: 'Delete my account' }).click();
    await dialog.getByRole('button', { name: 'Delete my account' }).click();
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    await page.getByText('Your account was deleted.').waitFor();
    expect(await server.app.jot.store.getUserByEmail('moved@flows.test')).toBeUndefined();
  });

  it('admins search and page through every user, confirm a delete, and see emails in the events', async () => {
    const { store, passwords } = server.app.jot;
    const hash = await passwords.hash(PASSWORD);
    for (let i = 0; i < 60; i++) {
      await store.createUser({ email: `bulk-${String(i).padStart(2, '0')}@flows.test`, passwordHash: hash });
    }
    await server.request('POST', '/api/login', { body: { email: 'bulk-07@flows.test', password: 'wrong!' } });
    const page = await signedInPage({ server, browser }, contexts, ADMIN);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    const total = Number(await page.locator('[data-count]').getAttribute('data-count'));
    expect(total).toBeGreaterThan(60);
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText(`26–50 of ${total}`).waitFor();
    await page.locator('#user-search').fill('bulk-5');
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await page.getByText('1–10 of 10').waitFor();
    await page.screenshot({ path: resolve(SHOTS, 'admin-users.png') });
    await page.getByRole('button', { name: 'Delete bulk-55@flows.test' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete bulk-55@flows.test?' });
    await dialog.getByRole('button', { name: 'Delete' }).click();
    await page.getByText('bulk-55@flows.test deleted.').waitFor();
    await page.getByText('1–9 of 9').waitFor();
    expect(await store.getUserByEmail('bulk-55@flows.test')).toBeUndefined();

    await page.getByRole('link', { name: 'Security events' }).click();
    await page.getByRole('heading', { name: 'Security events' }).waitFor();
    await page.getByRole('cell', { name: 'bulk-07@flows.test' }).first().waitFor();
    expect(await page.getByText(/^[0-9a-f]{8}-[0-9a-f]{4}-/).count()).toBe(0);

    // One user's events, a page at a time: over 120 of them for bulk-07, 100 per page.
    const bulk = (await store.getUserByEmail('bulk-07@flows.test'))!;
    for (let i = 0; i < 119; i++) await server.app.jot.events.record('login_failed', { userId: bulk.id });
    await page.getByRole('link', { name: 'bulk-07@flows.test' }).first().click();
    await page.getByRole('link', { name: 'Show every user’s events' }).waitFor();
    const rows = page.locator('main table tbody tr');
    await expect.poll(() => rows.count()).toBe(100);
    await page.getByRole('button', { name: 'Older events' }).click();
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(120);
    expect(await page.getByRole('button', { name: 'Older events' }).isVisible()).toBe(false);
    const shown = await rows.count();
    expect(await page.locator('main table tbody').getByText('bulk-07@flows.test').count()).toBe(shown);
  });

  it('no page overflows a 390 px screen horizontally (tables become cards)', async () => {
    const phone = await newPage(390);
    const pages = [
      '/signin',
      '/forgot-password',
      '/reset-password',
      '/verify-email',
      '/accept-invitation',
      '/debugger',
      '/account',
      '/admin/users',
      '/admin/invitations',
      '/admin/keys',
      '/admin/events',
    ];
    const results: Record<string, { overflow: number; culprits: string[] }> = {};
    for (const path of pages) {
      if (path === '/account') await signIn(phone, ADMIN);
      await phone.goto(`${server.url}/#${path}`);
      await phone.locator('main h1').waitFor();
      await phone.waitForFunction(() => !document.getElementById('main')?.hasAttribute('aria-busy'));
      if (path === '/debugger') {
        const login = await server.request('POST', '/api/login', {
          body: { email: ADMIN, password: PASSWORD, delivery: 'bearer' },
        });
        await phone.getByLabel('JSON Web Token').fill(login.body.access_token as string);
        await phone.locator('[data-part="header"]').waitFor();
      }
      results[path] = await horizontalOverflow(phone);
    }
    await phone.goto(`${server.url}/#/admin/users`);
    await phone.locator('table.cards').waitFor();
    await phone.screenshot({ path: resolve(SHOTS, 'admin-users-phone.png') });
    for (const [path, result] of Object.entries(results))
      expect({ path, ...result }).toEqual({ path, overflow: 0, culprits: [] });
  });

  it('the token debugger uses the full width from 1100 to 1600 px: header and payload share it, no empty column', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: ADMIN, password: PASSWORD, delivery: 'bearer' },
    });
    for (const width of [1100, 1300, 1600]) {
      const page = await newPage(width);
      await page.goto(`${server.url}/#/debugger`);
      await page.getByLabel('JSON Web Token').fill(login.body.access_token as string);
      await page.locator('[data-part="header"]').waitFor();
      const m = await page.evaluate(() => {
        const box = (sel: string) => document.querySelector(sel)!.getBoundingClientRect();
        const decoded = box('.decoded');
        const header = document
          .querySelector('[data-part="header"]')!
          .closest('section')!
          .getBoundingClientRect();
        const payload = document.querySelector('#payload-h')!.closest('section')!.getBoundingClientRect();
        return {
          viewport: document.documentElement.clientWidth,
          decoded: decoded.width,
          header: header.width,
          payload: payload.width,
          gapRight: decoded.right - payload.right,
          sameRow: Math.abs(header.top - payload.top) < 2,
        };
      });
      // The decoded area spans the viewport less the page padding; header and payload sit side by side and
      // reach its right edge (no empty third track).
      expect(m.decoded).toBeGreaterThan(m.viewport - 64);
      expect(m.sameRow).toBe(true);
      expect(m.gapRight).toBeLessThan(1);
      expect(m.header + m.payload).toBeGreaterThan(m.decoded * 0.9);
      if (width === 1300) await page.screenshot({ path: resolve(SHOTS, 'debugger.png') });
    }
  });
});
