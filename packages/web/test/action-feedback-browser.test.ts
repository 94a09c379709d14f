/**
 * What a user perceives after pressing a button, in real Chromium: where the keyboard focus goes (never lost to the
 * top of the page, which makes a keyboard or screen-reader user start over), what an error says (words, not a status
 * code or a developer's phrase), that the outcome shows where the user is looking, and that every button in a list
 * says what it acts on.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { base32Decode, totpCode } from '../../server/src/services/totp.js';
import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  focusedName,
  openPage,
  PASSWORD,
  signedInPage,
  signInWithForm,
  startBrowserServer,
  stopBrowserServer,
} from './support/browser.js';

const ADMIN = 'admin@feedback.test';
const USER = 'user@feedback.test';
const UA =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

describe.runIf(available)('feedback after an action', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  /** What has the focus (see focusedName), once the page has had 300 ms to move it. */
  const focusSettled = async (page: Page): Promise<string> => {
    await page.waitForTimeout(300);
    return focusedName(page);
  };
  /**
   * Registers `email` (verified), signs it in on a new page at 390 px and sets up an authenticator app from the account page;
   * resolves to the page once it shows the recovery codes.
   */
  const signInWithNewAuthenticatorApp = async (email: string): Promise<Page> => {
    const page = await signedInPage({ server, browser }, contexts, email, {
      width: 390,
      register: 'verified',
    });
    await page.getByRole('button', { name: 'Set up an authenticator app' }).click();
    const secret = (await page.locator('#totp-secret').textContent())!.replace(/\s/g, '');
    await page.locator('#totp-code').fill(totpCode(base32Decode(secret), Date.now()));
    await page.getByRole('button', { name: 'Confirm' }).click();
    await page.getByRole('region', { name: 'Your recovery codes' }).waitFor();
    return page;
  };

  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer({ accounts: [ADMIN, USER] }));
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  it('an error after a click leaves the focus on the button pressed', async () => {
    const page = await openPage(browser, contexts, 390);
    await page.goto(`${server.url}/#/signin`);
    await page.locator('#signin-email').fill(ADMIN);
    await page.locator('#signin-password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    await page.getByRole('alert').waitFor();
    expect(await focusSettled(page)).toBe('Sign in');

    await signInWithForm(page, server.url, USER);
    await page.locator('#current-password').fill('not the password');
    await page.locator('#new-password').fill('a brand new passphrase');
    await page.getByRole('button', { name: 'Change password' }).click();
    await page.locator('form[aria-labelledby="password-h"]').getByRole('alert').waitFor();
    expect(await focusSettled(page)).toBe('Change password');
  });

  it('cancelling a confirmation gives the focus back to the button that asked', async () => {
    const page = await signedInPage({ server, browser }, contexts, USER, { width: 1280 });
    for (const how of ['Cancel', 'Escape']) {
      await page.getByRole('button', { name: 'Sign out everywhere' }).click();
      const dialog = page.getByRole('dialog', { name: 'Sign out everywhere?' });
      await dialog.waitFor();
      if (how === 'Escape') await page.keyboard.press('Escape');
      else await dialog.getByRole('button', { name: 'Cancel' }).click();
      await dialog.waitFor({ state: 'detached' });
      await page.getByText('Cancelled: nothing was changed.').waitFor();
      expect({ how, focus: await focusSettled(page) }).toEqual({ how, focus: 'Sign out everywhere' });
    }
  });

  it('an action that removes its own button moves the focus to what happened', async () => {
    await server.request('POST', '/api/login', {
      body: { email: USER, password: PASSWORD },
      headers: { 'user-agent': UA },
    });
    const page = await signedInPage({ server, browser }, contexts, USER, { width: 1280 });
    await page.getByRole('button', { name: /^Revoke session (\d+ )?from .*Chrome\/131\.0\.0\.0/ }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Revoke' }).click();
    await page.getByText('Session revoked.').waitFor();
    expect(await focusSettled(page)).toBe('Session revoked.');
  });

  it('after setting up an authenticator app the focus is on the recovery codes to save', async () => {
    const page = await signInWithNewAuthenticatorApp('totp@feedback.test');
    await page.waitForTimeout(300);
    expect(
      await page.evaluate(
        () => document.activeElement?.getAttribute('aria-label') ?? document.activeElement?.id,
      ),
    ).toBe('Your recovery codes');
  });

  it('paging through users keeps the focus on the pager', async () => {
    const { store, passwords } = server.app.jot;
    const hash = await passwords.hash(PASSWORD);
    for (let i = 0; i < 30; i++)
      await store.createUser({
        email: `page-${String(i).padStart(2, '0')}@feedback.test`,
        passwordHash: hash,
      });
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).focus();
    await page.keyboard.press('Enter');
    await page.getByText(/^26–/).waitFor();
    // The last page: Next is disabled, so the focus moves to Previous rather than being lost.
    expect(await focusSettled(page)).toBe('#users-prev');
    await page.keyboard.press('Enter');
    await page.getByText(/^1–25 of/).waitFor();
    expect(await focusSettled(page)).toBe('#users-next');
  });

  it('says in words what went wrong when the server answers with no JSON, or does not answer', async () => {
    const page = await signedInPage({ server, browser }, contexts, USER, { width: 1280 });
    await page.locator('#profile-name').fill('Somebody');
    const nameForm = page.locator('form[aria-labelledby="profile-h"]');
    await page.route('**/api/account', (route) =>
      route.fulfill({ status: 502, contentType: 'text/html', body: '<html><body>Bad Gateway</body></html>' }),
    );
    await page.getByRole('button', { name: 'Save name' }).click();
    await nameForm.getByText('The server answered 502; try again in a moment.').waitFor();
    await page.unroute('**/api/account');
    await page.route('**/api/account', (route) => route.abort('connectionrefused'));
    await page.getByRole('button', { name: 'Save name' }).click();
    await nameForm
      .getByText('The server could not be reached. Check your connection and try again.')
      .waitFor();
    await page.unroute('**/api/account');
    // The server's own messages read as sentences — here the one answer to a change of address, taken (as this
    // one is: the answer must not say so) or not.
    await page.locator('#new-email').fill(ADMIN);
    await page.getByRole('button', { name: 'Change email' }).click();
    await page
      .locator('form[aria-labelledby="email-h"]')
      .getByText(
        `Check your inbox: open the link we sent to ${ADMIN} to confirm it; your email stays ${USER} until then.`,
        {
          exact: true,
        },
      )
      .waitFor();
  });

  it('a refused client registration is told by the form, in view on a phone', async () => {
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 390 });
    await page.goto(`${server.url}/#/admin/clients`);
    await page.getByRole('heading', { name: 'Register a client' }).waitFor();
    await page.locator('#client-name').fill('Orders');
    await page.locator('#client-jwks').fill('not a key');
    await page.getByRole('button', { name: 'Register' }).click();
    const form = page.locator('form[aria-labelledby="register-client-h"]');
    const alert = form.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toBe('The public key must be a JWK or a JWK Set (JSON).');
    expect(await alert.isVisible()).toBe(true);
    const inView = await alert.evaluate((el) => {
      const r = el.getBoundingClientRect();
      // Within a pixel: the page scrolls by whole pixels, the layout is fractional.
      return r.top > -1 && r.bottom < window.innerHeight + 1;
    });
    expect(inView).toBe(true);

    // A generated secret is shown once, above the list: the view and the focus go there.
    await page.locator('#client-name').fill('Phone');
    await page.locator('#client-jwks').fill('');
    await page.locator('#client-method').selectOption('client_secret_basic');
    await page.locator('#client-audiences').fill('https://orders.internal');
    await page.getByRole('button', { name: 'Register' }).click();
    const secret = page.locator('#new-client-secret');
    await secret.waitFor();
    await page.waitForTimeout(300);
    expect(
      await secret.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return {
          focused: el.parentElement === document.activeElement,
          inView: r.top >= 0 && r.bottom <= innerHeight,
        };
      }),
    ).toEqual({ focused: true, inView: true });

    // The same for a key rotation: its outcome is by the form at the bottom, not above the list of keys.
    await page.goto(`${server.url}/#/admin/keys`);
    await page.getByRole('heading', { name: 'Rotate' }).waitFor();
    await page.getByRole('button', { name: 'Rotate now' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Rotate' }).click();
    await page
      .locator('form[aria-labelledby="rotate-h"]')
      .getByText(/^Created key /)
      .waitFor();
  });
  it('buttons repeated in a list say what they act on', async () => {
    await server.request('POST', '/api/login', {
      body: { email: ADMIN, password: PASSWORD },
      headers: { 'user-agent': UA },
    });
    await server.request('POST', '/api/login', {
      body: { email: ADMIN, password: PASSWORD },
      headers: { 'user-agent': UA },
    });
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    const names = async (): Promise<string[]> =>
      (await page.locator('main').ariaSnapshot())
        .split('\n')
        .map((line) => /- button "([^"]+)"/.exec(line)?.[1])
        .filter((name): name is string => name !== undefined);
    const duplicates = (list: string[]): string[] => [
      ...new Set(list.filter((n, i) => list.indexOf(n) !== i)),
    ];
    await page
      .getByRole('button', { name: /^Revoke session (\d+ )?from/ })
      .first()
      .waitFor();
    expect(duplicates(await names())).toEqual([]);

    await page.goto(`${server.url}/#/admin/clients`);
    await page.getByRole('heading', { name: 'Register a client' }).waitFor();
    for (const name of ['Billing', 'Reports']) {
      await page.locator('#client-name').fill(name);
      await page.locator('#client-id').fill(name.toLowerCase());
      await page.locator('#client-method').selectOption('client_secret_basic');
      await page.locator('#client-audiences').fill('https://orders.internal');
      await page.getByRole('button', { name: 'Register' }).click();
      await page.getByText(`Registered ${name.toLowerCase()}.`).waitFor();
    }
    expect(duplicates(await names())).toEqual([]);
    await page.getByRole('button', { name: 'New secret for billing' }).waitFor();
  });

  it('removing a second factor asks first (it may turn two-step verification off)', async () => {
    const page = await signInWithNewAuthenticatorApp('remover@feedback.test');
    const remove = page.getByRole('button', { name: 'Remove Authenticator app' });
    const row = page.getByRole('row').filter({ hasText: 'Authenticator app' });
    const dialog = page.getByRole('dialog', { name: 'Remove Authenticator app?' });
    await remove.click();
    await dialog.waitFor();
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await page.getByText('Cancelled: nothing was changed.').waitFor();
    expect(await row.count()).toBe(1);
    expect(await focusSettled(page)).toMatch(/^#remove-factor-/);
    await remove.click();
    await dialog.getByRole('button', { name: 'Remove' }).click();
    await page.getByText('Authenticator app removed.').waitFor();
    expect(await row.count()).toBe(0);
  });

  it('the skip link moves the focus to the content without leaving the page’s route', async () => {
    const page = await signedInPage({ server, browser }, contexts, USER, { width: 1280 });
    await page.getByRole('link', { name: 'Skip to content' }).focus();
    await page.keyboard.press('Enter');
    expect(await focusedName(page)).toBe('#main');
    // The address still names the page: a reload, a bookmark or the end of the session all know where the user is.
    expect(await page.evaluate(() => location.hash)).toBe('#/account');
    await page.reload();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    // An address left with a bare fragment (an old bookmark) opens a page rather than an empty one.
    await page.goto(`${server.url}/#main`);
    await page.reload();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
  });

  it('after the oldest events are shown the focus is not lost with the hidden "Older events" button', async () => {
    const { store, events } = server.app.jot;
    const user = (await store.getUserByEmail(USER))!;
    for (let i = 0; i < 101; i++) await events.record('login_failed', { userId: user.id });
    const page = await signedInPage({ server, browser }, contexts, ADMIN, { width: 1280 });
    await page.goto(`${server.url}/#/admin/events?user_id=${user.id}`);
    await page.getByRole('button', { name: 'Older events' }).click();
    await page.getByText('These are the oldest events.').waitFor();
    expect(await page.getByRole('button', { name: 'Older events' }).isVisible()).toBe(false);
    expect(await focusSettled(page)).toBe('These are the oldest events.');
  });
});
