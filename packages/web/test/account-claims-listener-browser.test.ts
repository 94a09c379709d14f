/**
 * The account page keeps its "Claims of the current access token" list current through `session:refreshed`, in real
 * Chromium (cookie delivery). Regression tests: every visit added a listener that was removed only at the next
 * refresh — visits between two refreshes stacked up listeners, each holding its page's claims list — and a refresh
 * while the page was still loading (its list not yet in the document) removed the listener for good, so the claims
 * shown stayed those of the first token. The "Who am I" line follows the refreshes too: after an admin changed the
 * user's roles, the roles it names are those of the new token. Regression test: the line kept the roles the page was
 * drawn with while the claims under it already listed the new ones.
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

const EMAIL = 'claims-listener@jot.test';
const ADMIN = 'claims-listener-admin@jot.test';
const PROMOTED = 'claims-listener-roles@jot.test';
const LABEL = 'Access token claims';

/** Opens `route` through the navigation as a user does, and waits for its heading. */
async function visit(page: Page, route: string, heading: string): Promise<void> {
  await page.evaluate((hash) => {
    location.hash = hash;
  }, route);
  await page.getByRole('heading', { level: 1, name: heading }).waitFor();
}

/**
 * How many account-page claims lists are alive in the page's heap after a full garbage collection — those in the
 * document and the detached ones something still holds (DevTools protocol: `Runtime.queryObjects`).
 */
async function liveClaimsLists(page: Page): Promise<number> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.enable');
    await cdp.send('HeapProfiler.collectGarbage');
    const proto = await cdp.send('Runtime.evaluate', { expression: 'HTMLDListElement.prototype' });
    const { objects } = await cdp.send('Runtime.queryObjects', {
      prototypeObjectId: proto.result.objectId!,
    });
    const counted = await cdp.send('Runtime.callFunctionOn', {
      objectId: objects.objectId!,
      functionDeclaration: `function (label) { return this.filter((dl) => dl.getAttribute('aria-label') === label).length; }`,
      arguments: [{ value: LABEL }],
      returnByValue: true,
    });
    return counted.result.value as number;
  } finally {
    await cdp.detach();
  }
}

/** The `jti` the account page shows. */
const shownJti = async (page: Page): Promise<string> =>
  (await page.locator(`dl[aria-label="${LABEL}"] dt:has(code:text-is("jti")) + dd`).textContent()) ?? '';

/** The `roles` claim the account page shows. */
const shownRoles = async (page: Page): Promise<string> =>
  (await page.locator(`dl[aria-label="${LABEL}"] dt:has(code:text-is("roles")) + dd`).textContent()) ?? '';

describe.runIf(available)('the account page listens for refreshes once per visit, while it is shown', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => ({ server, browser } = await startBrowserServer({ accounts: [EMAIL] })));
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  it('keeps no claims list of an earlier visit alive after the user moved on (15-minute tokens: no refresh)', async () => {
    const page = await signedInPage({ server, browser }, contexts, EMAIL);
    for (let i = 0; i < 6; i++) {
      await visit(page, '#/debugger', 'Token debugger');
      await visit(page, '#/account', 'My account');
    }
    // Only the list on screen: each earlier visit's listener went with its page.
    expect(await liveClaimsLists(page)).toBe(1);
    await visit(page, '#/debugger', 'Token debugger');
    expect(await liveClaimsLists(page)).toBe(0);
  });
});

describe.runIf(available)('the account page follows refreshes (2 s access tokens)', () => {
  let server: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  beforeAll(
    async () =>
      ({ server, browser } = await startBrowserServer({
        accounts: [EMAIL, ADMIN, PROMOTED],
        settings: { accessTokenTtl: '2s', clockTolerance: '0s' },
      })),
  );
  afterAll(() => stopBrowserServer({ server, browser }, contexts));

  it('shows the claims of each new token, also after a refresh that came while the page was loading', async () => {
    const page = await signedInPage({ server, browser }, contexts, EMAIL);
    await visit(page, '#/debugger', 'Token debugger');
    // The sessions list (the page's last request) waits until a refresh has been answered: the page is still loading.
    await page.route('**/api/sessions', async (route) => {
      await page.waitForResponse((r) => r.url().endsWith('/api/token/refresh') && r.ok(), {
        timeout: 6_000,
      });
      await route.continue();
    });
    await visit(page, '#/account', 'My account');
    await page.unroute('**/api/sessions');
    const first = await shownJti(page);
    expect(first).not.toBe('');
    // The next refreshes replace the list; the one that came while loading had not unsubscribed it.
    await expect.poll(() => shownJti(page), { timeout: 6_000 }).not.toBe(first);
  });

  it('redraws the roles of "Who am I" from the new token after an admin changed them', async () => {
    const { store } = server.app.jot;
    await store.setRoles((await store.getUserByEmail(ADMIN))!.id, ['admin']);
    const promoted = (await store.getUserByEmail(PROMOTED))!;
    const page = await signedInPage({ server, browser }, contexts, PROMOTED);
    const line = page.getByRole('region', { name: 'Who am I' }).locator('p').first();
    expect(await line.textContent()).toBe(`Signed in as ${PROMOTED}. Roles: none.`);

    const login = await server.request('POST', '/api/login', {
      body: { email: ADMIN, password: PASSWORD, delivery: 'bearer' },
    });
    expect(login.status, login.text).toBe(200);
    const changed = await server.request('PUT', `/api/admin/users/${promoted.id}/roles`, {
      token: login.body.access_token as string,
      body: { roles: ['editor', 'support'] },
    });
    expect(changed.status, changed.text).toBe(200);

    // The next refresh brings a token with the new roles: the claims list and the line both show them.
    await expect.poll(() => shownRoles(page), { timeout: 8_000 }).toMatch(/editor.*support/);
    await expect
      .poll(() => line.textContent(), { timeout: 4_000 })
      .toBe(`Signed in as ${PROMOTED}. Roles: editor, support.`);
  });
});
