/**
 * The web UI in single-token mode (`JOT_TOKEN_MODE=single`), in real Chromium: there is no refresh token, so the
 * page's `@jot/client` renews the access cookie (`POST /api/token/renew` with `X-Csrf-Token`) before it expires. A
 * signed-in user stays signed in across many 3-second token lifetimes, through a reload and with two tabs open,
 * without a single refresh request and without a renewal-reuse alarm. Skipped without /usr/bin/chromium (failed
 * in CI by browser.test.ts).
 */
import type { Browser, BrowserContext, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { available, ensureBuilt, launchChromium, PASSWORD } from './support/browser.js';

const EMAIL = 'single@jot.test';
const TTL_S = 3;

describe.runIf(available)('web UI in single-token mode (3 s access tokens, no refresh token)', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Token requests from every page, as "<tab> <path> <status>". */
  const tokenCalls: string[] = [];

  function watch(p: Page, name: string): void {
    p.on('requestfinished', (r: Request) => {
      const path = new URL(r.url()).pathname;
      if (path.startsWith('/api/token/'))
        void r.response().then((res) => tokenCalls.push(`${name} ${path} ${res?.status() ?? 0}`));
    });
  }

  const renewals = (status = 200): number =>
    tokenCalls.filter((c) => c.endsWith(`/api/token/renew ${status}`)).length;

  /** Waits until `n` more successful renewals have happened (a deadline fails the test instead of hanging). */
  async function renewalsPass(n: number): Promise<void> {
    const target = renewals() + n;
    await expect.poll(() => renewals(), { timeout: 30_000, interval: 200 }).toBeGreaterThanOrEqual(target);
  }

  const reuseEvents = async (): Promise<number> =>
    (await server.app.jot.store.listSecurityEvents({ limit: 500, type: 'renewal_reuse' })).length;

  beforeAll(async () => {
    await ensureBuilt();
    server = await startServer({
      tokenMode: 'single',
      tokenDelivery: 'cookie',
      accessTokenTtl: `${TTL_S}s`,
      clockTolerance: '0s',
      // A renewal every 1.5 s is far above the default 6/min per session.
      rateLimitRenew: '1000/min',
    });
    const reg = await server.request('POST', '/api/register', {
      body: { email: EMAIL, password: PASSWORD, name: 'Sam Single' },
    });
    expect(reg.status).toBe(201);
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1000, height: 700 } });
    page = await context.newPage();
    watch(page, 'one');
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('the page learns the token mode from the server', async () => {
    await page.goto(`${server.url}/`);
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    expect(
      await page.evaluate(() =>
        document.querySelector('meta[name="jot-token-mode"]')?.getAttribute('content'),
      ),
    ).toBe('single');
  });

  it('signs in with no refresh cookie and stays signed in across several token lifetimes', async () => {
    await page.getByLabel('Email').first().fill(EMAIL);
    await page.locator('#signin-password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    const cookies = await context.cookies();
    expect(cookies.some((c) => c.name.endsWith('jot_at') && c.httpOnly)).toBe(true);
    expect(cookies.some((c) => c.name.endsWith('jot_rt'))).toBe(false);
    const signedInAt = Date.now();

    await renewalsPass(4);
    // Four renewals take at least four half-lifetimes: the first token has long expired.
    expect(Date.now() - signedInAt).toBeGreaterThan(TTL_S * 1000);
    await page.getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await page.getByRole('cell', { name: `${EMAIL} (you)` }).waitFor();
    expect(await page.evaluate(() => document.body.dataset.session)).toBe('signed-in');
    expect(tokenCalls.filter((c) => c.includes('/api/token/refresh'))).toEqual([]);
    expect(renewals(401) + renewals(429)).toBe(0);
  });

  it('a reload keeps the session (the access cookie), and renewal goes on', async () => {
    await page.reload();
    await page.getByRole('heading', { name: 'Users' }).waitFor();
    await renewalsPass(2);
    await page.goto(`${server.url}/#/account`);
    await page.getByRole('heading', { name: 'My account' }).waitFor();
    expect(await page.evaluate(() => document.body.dataset.session)).toBe('signed-in');
  });

  it('two tabs renewing from the same expiry both stay signed in, with no reuse alarm', async () => {
    const second = await context.newPage();
    watch(second, 'two');
    await second.goto(`${server.url}/#/account`);
    await second.getByRole('heading', { name: 'My account' }).waitFor();
    await renewalsPass(4);
    for (const p of [page, second]) {
      await p.goto(`${server.url}/#/admin/events`);
      await p.getByRole('heading', { name: 'Security events' }).waitFor();
      expect(await p.evaluate(() => document.body.dataset.session)).toBe('signed-in');
    }
    expect(renewals(401)).toBe(0);
    expect(await reuseEvents()).toBe(0);
    await second.close();
  });

  it('signing out ends renewal: the access cookie is cleared and no renewal follows', async () => {
    await page.goto(`${server.url}/#/account`);
    await page.getByRole('button', { name: 'Sign out', exact: true }).click();
    await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
    const before = renewals();
    await page.waitForTimeout(TTL_S * 1000);
    expect(renewals()).toBe(before);
    expect((await context.cookies()).some((c) => c.name.endsWith('jot_at'))).toBe(false);
  });
});
