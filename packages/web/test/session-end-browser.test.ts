/**
 * When the session ends while the user is filling in a form (signed out on another device, refresh refused, signed
 * out in another tab), real Chromium: the sign-in page says so and where the user will go back to; after signing in
 * again as the same user they are back on the page they were on, with what they had typed — except passwords and
 * codes, which are never kept. The return route only ever names one of the UI's own routes (no open redirect), a
 * different user gets nothing of the previous user's input, and a deliberate sign-out starts afresh.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  openPage,
  PASSWORD,
  signedInPage,
  signInWithForm,
  startBrowserServer,
  stopBrowserServer,
} from './support/browser.js';

const ADMIN = 'admin@session-end.test';
const OTHER = 'other@session-end.test';

describe.runIf(available)('the session ends while a form is being filled in', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** Ends every session of `email` from elsewhere (another device's "sign out everywhere"). */
  async function signOutElsewhere(email: string): Promise<void> {
    const login = await server.request('POST', '/api/login', {
      body: { email, password: PASSWORD, delivery: 'bearer' },
    });
    expect(login.status).toBe(200);
    const out = await server.request('POST', '/api/logout-all', { token: login.body.access_token as string });
    expect(out.status).toBe(204);
  }

  /** Fills the sign-in form (already on screen) and submits it. */
  async function signInAgain(page: Page, email: string): Promise<void> {
    await page.locator('#signin-email').fill(email);
    await page.locator('#signin-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  }

  const hash = (page: Page): Promise<string> => page.evaluate(() => location.hash);
  const settled = (page: Page): Promise<unknown> =>
    page.waitForFunction(() => !document.getElementById('main')?.hasAttribute('aria-busy'));

  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer({ accounts: [ADMIN, OTHER] }));
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  it('refused on submit: back on the same page after signing in, typed input kept, passwords not', async () => {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 390 });
    await page.locator('#profile-name').fill('Draft Name');
    await page.locator('#new-email').fill('draft@session-end.test');
    await page.locator('#current-password').fill('typed current secret');
    await page.locator('#new-password').fill('typed new secret passphrase');

    await signOutElsewhere(ADMIN);
    // The next request is refused, its refresh too: the session ends in the middle of the user's work.
    await page.locator('#new-email').press('Enter');
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    await page.getByText('Your session has ended. Please sign in again.').waitFor();
    await page.getByText('After signing in you go back to “My account”').waitFor();
    // Focus lands on the heading, which carries the notice, so a screen reader hears why.
    const described = await page.evaluate(() => {
      const h1 = document.querySelector('main h1');
      const ids = h1?.getAttribute('aria-describedby')?.split(' ') ?? [];
      return {
        focused: document.activeElement === h1,
        text: ids.map((id) => document.getElementById(id)?.textContent ?? '').join(' '),
      };
    });
    expect(described.focused).toBe(true);
    expect(described.text).toContain('Your session has ended.');
    // Nothing typed went anywhere a script or the disk keeps: no storage, and the passwords are not in the page.
    const traces = await page.evaluate(() => ({
      storage: JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }),
      html: document.documentElement.outerHTML,
    }));
    for (const typed of ['Draft Name', 'draft@session-end', 'typed current secret', 'typed new secret'])
      expect(traces.storage + traces.html).not.toContain(typed);

    await signInAgain(page, ADMIN);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await settled(page);
    expect(await page.locator('#profile-name').inputValue()).toBe('Draft Name');
    expect(await page.locator('#new-email').inputValue()).toBe('draft@session-end.test');
    expect(await page.locator('#current-password').inputValue()).toBe('');
    expect(await page.locator('#new-password').inputValue()).toBe('');
    await page.getByText('What you had typed here is back').waitFor();
    // The cursor is back in the field the user was in.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('new-email');
  });

  it('returns to an admin page (not the account page) with its form as it was', async () => {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await page.getByRole('link', { name: 'Invitations' }).click();
    await page.getByRole('heading', { name: 'Invitations' }).waitFor();
    await page.locator('#invite-new-email').fill('guest@session-end.test');
    await page.locator('#invite-new-roles').fill('editor, viewer');
    await signOutElsewhere(ADMIN);
    await page.getByRole('button', { name: 'Send invitation' }).click();
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    expect(await hash(page)).toBe(`#/signin?next=${encodeURIComponent('/admin/invitations')}`);
    await page.getByText('After signing in you go back to “Invitations”').waitFor();
    await signInAgain(page, ADMIN);
    await page.getByRole('heading', { name: 'Invitations' }).waitFor();
    await settled(page);
    expect(await hash(page)).toBe('#/admin/invitations');
    expect(await page.locator('#invite-new-email').inputValue()).toBe('guest@session-end.test');
    expect(await page.locator('#invite-new-roles').inputValue()).toBe('editor, viewer');
    // Nothing was sent on the user's behalf: they submit again themselves.
    expect(await server.app.jot.store.listOpenInvitations(10)).toEqual([]);
  });

  it('signed out in another tab: signing in again in either tab brings the first one back with its input', async () => {
    const first = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    const second = await first.context().newPage();
    await second.goto(`${server.url}/#/account`);
    await second.getByRole('heading', { name: 'My account' }).waitFor();
    await first.goto(`${server.url}/#/admin/users`);
    await first.getByRole('heading', { name: 'Create a user' }).waitFor();
    await first.locator('#new-user-email').fill('new.person@session-end.test');
    await first.locator('#new-user-name').fill('New Person');
    await first.locator('#new-user-password').fill('a password never kept');
    await second.getByRole('button', { name: 'Sign out', exact: true }).click();
    await second.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    await first.getByText('You were signed out in another tab.').waitFor();
    expect(await hash(first)).toBe(`#/signin?next=${encodeURIComponent('/admin/users')}`);
    // The tab that signed out on purpose starts afresh.
    expect(await hash(second)).toBe('#/signin');
    await signInAgain(second, ADMIN);
    await second.getByRole('heading', { name: 'My account' }).waitFor();
    // The first tab follows the sign-in and goes back to where it was.
    await first.getByRole('heading', { name: 'Users' }).waitFor();
    await settled(first);
    expect(await first.locator('#new-user-email').inputValue()).toBe('new.person@session-end.test');
    expect(await first.locator('#new-user-name').inputValue()).toBe('New Person');
    expect(await first.locator('#new-user-password').inputValue()).toBe('');
  });

  it('another account signing in gets the route but none of the previous input', async () => {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await page.locator('#profile-name').fill('Private draft');
    await page.locator('#new-email').fill('private@session-end.test');
    await signOutElsewhere(ADMIN);
    await page.getByRole('button', { name: 'Save name' }).click();
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    await signInAgain(page, OTHER);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await settled(page);
    await page.getByText(`Signed in as ${OTHER}`).waitFor();
    expect(await page.locator('#profile-name').inputValue()).toBe('');
    expect(await page.locator('#new-email').inputValue()).toBe('');
    expect(await page.getByText('What you had typed here is back').count()).toBe(0);
    // Nor does the previous account's input come back later.
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await signInWithForm(page, server.url, ADMIN);
    expect(await page.locator('#new-email').inputValue()).toBe('');
  });

  it('a non-admin returned to an admin page lands on the account page', async () => {
    const page = await openPage(browser, contexts, 1280);
    await page.goto(`${server.url}/#/admin/keys`);
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    expect(await hash(page)).toBe(`#/signin?next=${encodeURIComponent('/admin/keys')}`);
    await signInAgain(page, OTHER);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    expect(await hash(page)).toBe('#/account');
  });

  it('a bookmark of a page that needs a session opens it after signing in, its query kept', async () => {
    const page = await openPage(browser, contexts, 1280);
    await page.goto(`${server.url}/#/admin/events?user_id=nobody`);
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    await signInAgain(page, ADMIN);
    await page.getByRole('heading', { name: 'Security events' }).waitFor();
    expect(await hash(page)).toBe('#/admin/events?user_id=nobody');
  });

  it('the return route is only ever one of the UI’s own pages: anything else goes to the account page', async () => {
    const page = await openPage(browser, contexts, 1280);
    for (const next of [
      'https://evil.example/',
      '//evil.example/admin/users',
      'javascript:alert(1)',
      '/\\evil.example',
      '/signin',
      '/nowhere',
      '/reset-password?token=stolen',
    ]) {
      await page.goto(`${server.url}/#/signin?next=${encodeURIComponent(next)}`);
      await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
      expect(await page.getByText('After signing in you go back to').count()).toBe(0);
      await signInAgain(page, ADMIN);
      await page.getByRole('heading', { name: 'My account' }).waitFor();
      expect({ next, url: page.url() }).toEqual({ next, url: `${server.url}/#/account` });
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    }
  });

  it('a deliberate sign-out starts afresh: no return route, and the next sign-in opens the account page', async () => {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await page.goto(`${server.url}/#/admin/invitations`);
    await page.getByRole('heading', { name: 'Invitations' }).waitFor();
    await page.locator('#invite-new-email').fill('forget.me@session-end.test');
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    expect(await hash(page)).toBe('#/signin');
    await signInAgain(page, ADMIN);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    await page.goto(`${server.url}/#/admin/invitations`);
    await page.getByRole('heading', { name: 'Invitations' }).waitFor();
    expect(await page.locator('#invite-new-email').inputValue()).toBe('');
  });

  it('a page that needs no session keeps what was typed when the session ends (token debugger)', async () => {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await page.goto(`${server.url}/#/debugger`);
    await page.getByRole('heading', { name: 'Token debugger' }).waitFor();
    await page.getByLabel('Public key').fill('{"kty":"OKP"}');
    const other = await page.context().newPage();
    await other.goto(`${server.url}/#/account`);
    await other.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.waitForFunction(() => document.body.dataset.session === 'signed-out');
    await page.getByRole('link', { name: 'Sign in', exact: true }).waitFor();
    expect(await page.getByLabel('Public key').inputValue()).toBe('{"kty":"OKP"}');
    expect(await hash(page)).toBe('#/debugger');
  });
});
