/**
 * The sign-in page follows the server's JOT_REGISTRATION (advertised in `<meta name="jot-registration">`): it offers
 * "Create an account" only when registration is open, and fits a 390 px screen and a desktop width either way.
 */
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { available, ensureBuilt, horizontalOverflow, launchChromium, openPage } from './support/browser.js';

describe.runIf(available)('the sign-in page and JOT_REGISTRATION', () => {
  const servers: Record<string, TestServer> = {};
  let browser: Browser;
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    servers.open = await startServer({ registration: 'open' });
    servers.invite = await startServer({ registration: 'invite' });
    browser = await launchChromium();
  });
  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    for (const server of Object.values(servers)) await server.close();
  });

  for (const [mode, offered] of [
    ['open', true],
    ['invite', false],
  ] as const) {
    it(`${mode}: ${offered ? 'offers' : 'does not offer'} to create an account, at 390 px and 1280 px`, async () => {
      for (const width of [390, 1280]) {
        const page = await openPage(browser, contexts, width);
        await page.goto(`${servers[mode]!.url}/#/signin`);
        await page.getByRole('heading', { name: 'Sign in', exact: true }).waitFor();
        const meta = await page.evaluate(() =>
          document.querySelector('meta[name="jot-registration"]')?.getAttribute('content'),
        );
        expect(meta).toBe(mode);
        expect(await page.getByRole('heading', { name: 'Create an account' }).count()).toBe(offered ? 1 : 0);
        expect(await page.locator('#register-email').count()).toBe(offered ? 1 : 0);
        expect({ width, ...(await horizontalOverflow(page)) }).toEqual({ width, overflow: 0, culprits: [] });
      }
    });
  }
});
