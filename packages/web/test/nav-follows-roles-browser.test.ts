/**
 * The navigation follows the roles a refresh brings, in real Chromium (cookie delivery, 2 s access tokens). Regression
 * test: after an admin gave a user the admin role, the admin links appeared only once the user opened another page;
 * after it was taken away, the user stayed on an admin page whose every request now failed.
 */
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from '../../server/test/support/jot-server.js';
import {
  available,
  PASSWORD,
  signedInPage,
  startBrowserServer,
  stopBrowserServer,
} from './support/browser.js';

const ADMIN = 'nav-roles-admin@jot.test';
const USER = 'nav-roles-user@jot.test';

/** The admin's bearer token, for changing the user's roles over the API. */
async function adminBearer(server: TestServer): Promise<string> {
  const login = await server.request('POST', '/api/login', {
    body: { email: ADMIN, password: PASSWORD, delivery: 'bearer' },
  });
  expect(login.status, login.text).toBe(200);
  return login.body.access_token as string;
}

/** Sets `email`'s roles as the admin (signed in afresh: its 2 s token would not outlive a slow step). */
async function setRoles(server: TestServer, email: string, roles: string[]): Promise<void> {
  const token = await adminBearer(server);
  const user = (await server.app.jot.store.getUserByEmail(email))!;
  const changed = await server.request('PUT', `/api/admin/users/${user.id}/roles`, {
    token,
    body: { roles },
  });
  expect(changed.status, changed.text).toBe(200);
}

const usersLink = (page: Page) =>
  page.getByRole('navigation').getByRole('link', { name: 'Users', exact: true });

describe.runIf(available)('the navigation follows the roles of each refreshed token', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    ({ server, browser } = await startBrowserServer({
      accounts: [ADMIN, USER],
      settings: { accessTokenTtl: '2s', clockTolerance: '0s' },
    }));
    const { store } = server.app.jot;
    await store.setRoles((await store.getUserByEmail(ADMIN))!.id, ['admin']);
  });
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  it('shows the admin links once a refresh brings the admin role, keeping what the user typed', async () => {
    const page = await signedInPage({ server, browser }, contexts, USER);
    await page.evaluate(() => (location.hash = '#/debugger'));
    const input = page.getByRole('textbox').first();
    await input.fill('typed before the promotion');
    expect(await usersLink(page).count()).toBe(0);

    await setRoles(server, USER, ['admin']);
    await usersLink(page).waitFor({ timeout: 8_000 });
    // The page stayed: only the navigation changed.
    expect(await input.inputValue()).toBe('typed before the promotion');
  });

  it('leaves an admin page once a refresh takes the admin role away', async () => {
    await setRoles(server, USER, ['admin']);
    const page = await signedInPage({ server, browser }, contexts, USER);
    await page.evaluate(() => (location.hash = '#/admin/users'));
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();

    await setRoles(server, USER, []);
    await expect.poll(() => page.evaluate(() => location.hash), { timeout: 8_000 }).not.toBe('#/admin/users');
    expect(await usersLink(page).count()).toBe(0);
  });
  it('keeps the user signed in when the whoami after a refresh fails (a 502 during a restart is no sign-out)', async () => {
    await setRoles(server, USER, []);
    const page = await signedInPage({ server, browser }, contexts, USER);
    let failed = 0;
    await page.route('**/api/whoami', async (route) => {
      failed += 1;
      await route.fulfill({ status: 502, contentType: 'text/plain', body: 'bad gateway' });
    });
    // Refreshes come every ~2 s; each one's whoami fails.
    await expect.poll(() => failed, { timeout: 8_000 }).toBeGreaterThan(0);
    await page.unroute('**/api/whoami');
    // A page that needs a session still opens: the UI did not forget who is signed in.
    await page.evaluate(() => (location.hash = '#/debugger'));
    await page.getByRole('heading', { level: 1, name: 'Token debugger' }).waitFor();
    await page.evaluate(() => (location.hash = '#/account'));
    await page.getByRole('heading', { level: 1, name: 'My account' }).waitFor();
    expect(await page.evaluate(() => location.hash)).toBe('#/account');
  });
});
