/**
 * Shared by the real-browser suites: Debian's Chromium through playwright-core, the UI built when missing or stale,
 * the screenshot folder, fresh pages, signing in through the form (on a page of one's own: {@link signedInPage}),
 * layout measurements, where the focus is, and a test file's server and Chromium (with a real SMTP server for the
 * suites that follow links in messages).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { expect } from 'vitest';

import type { Settings } from '../../../server/src/config/index.js';
import { startServer, verifyAddressOf, type TestServer } from '../../../server/test/support/jot-server.js';
import { freePort, startSmtp, type TestSmtp } from '../../../server/test/support/smtp.js';

export const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
/** Whether the browser suites can run here. */
export const available = existsSync(CHROMIUM);

/** The password the suites register their accounts with. */
export const PASSWORD = 'correct horse battery';

/** Says on the console that `what` is skipped (outside CI: in CI a missing Chromium fails, see browser.test.ts). */
export function warnIfUnavailable(what: string): void {
  if (!available && process.env.CI === undefined)
    console.warn(`\n⚠ ${CHROMIUM} is missing: ${what} SKIPPED (apt-get install -y chromium).\n`);
}

// `npm run screenshots` refreshes the committed pictures in docs/screenshots; ordinary runs write to a temp dir so
// that a test run never leaves the work tree changed.
export const SHOTS =
  process.env.JOT_SCREENSHOTS === '1'
    ? resolve(here, '../../../../docs/screenshots')
    : resolve(tmpdir(), 'jot-screenshots');

function newestMtime(dir: string): number {
  let newest = 0;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = statSync(path);
    newest = Math.max(newest, stat.isDirectory() ? newestMtime(path) : stat.mtimeMs);
  }
  return newest;
}

function webBuildStale(): boolean {
  const index = resolve(here, '../../dist/index.html');
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return [resolve(here, '../../src'), resolve(here, '../../../client/src')].some(
    (dir) => newestMtime(dir) > built,
  );
}

let building: Promise<void> | undefined;

/** Builds the UI when it is missing or stale (every suite calls it; the build runs once per process). */
export function ensureBuilt(): Promise<void> {
  // `npm test` builds the UI before Vitest starts (other files start servers that read dist); a lone run of
  // a browser suite builds it when it is missing or older than its sources.
  building ??= webBuildStale()
    ? build({ configFile: resolve(here, '../../vite.config.ts'), logLevel: 'warn' }).then(() => undefined)
    : Promise.resolve();
  return building;
}

/** Launches headless Chromium with the project's flags. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
    ],
  });
}

/**
 * A page in a context of its own (its own cookies) at `width` × `height`; `contexts` collects the context for the
 * suite to close. Locators fail after 8 s, well before a test's own timeout, naming what they waited for.
 */
export async function openPage(
  browser: Browser,
  contexts: BrowserContext[],
  width = 1000,
  height = 800,
): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height } });
  contexts.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(8_000);
  return page;
}

/** Signs in through the sign-in form of the server at `url` and waits for the account page. */
export async function signInWithForm(
  page: Page,
  url: string,
  email: string,
  password = PASSWORD,
): Promise<void> {
  await page.goto(`${url}/#/signin`);
  await page.getByRole('heading', { name: 'Sign in to Jot' }).waitFor();
  await page.locator('#signin-email').fill(email);
  await page.locator('#signin-password').fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.getByRole('heading', { name: 'My account' }).waitFor();
}

/**
 * Registers `email` with {@link PASSWORD} on `server`; throws unless the server created the account. `verified`
 * also marks its address verified, as its link would: adding a second factor needs that (pre-account hijacking).
 */
export async function registerAccount(
  server: TestServer,
  email: string,
  options: { verified?: boolean } = {},
): Promise<void> {
  const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  if (reg.status !== 201) throw new Error(`registering ${email} failed: ${reg.status} ${reg.text}`);
  if (options.verified === true) await verifyAddressOf(server, reg.body.id as string);
}

/** How {@link signedInPage} opens its page. */
export interface SignedInPageOptions {
  /** The viewport's width and height ({@link openPage}'s when left out). */
  width?: number;
  height?: number;
  /**
   * Registers the account first, for one the suite's `beforeAll` did not create; `'verified'` with its address
   * verified (to add a second factor).
   */
  register?: boolean | 'verified';
  /** Runs on the new page before it signs in (e.g. to listen for its dialogs). */
  prepare?: (page: Page) => void;
}

/**
 * A fresh page (see {@link openPage}) of the suite's server and Chromium, signed in as `email` through the form and
 * showing the account page.
 */
export async function signedInPage(
  started: BrowserServer,
  contexts: BrowserContext[],
  email: string,
  options: SignedInPageOptions = {},
): Promise<Page> {
  if (options.register !== undefined && options.register !== false) {
    await registerAccount(started.server, email, { verified: options.register === 'verified' });
  }
  const page = await openPage(started.browser, contexts, options.width, options.height);
  options.prepare?.(page);
  await signInWithForm(page, started.server.url, email);
  return page;
}

/** How far the page reaches beyond the viewport horizontally (0 = no horizontal overflow), and what sticks out. */
export async function horizontalOverflow(page: Page): Promise<{ overflow: number; culprits: string[] }> {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const culprits: string[] = [];
    for (const el of Array.from(document.querySelectorAll('body *'))) {
      const rect = el.getBoundingClientRect();
      if (rect.width > 0 && rect.right > width + 0.5) {
        // Only elements not clipped by a scrolling ancestor count.
        let clipped = false;
        for (let p = el.parentElement; p !== null && p !== document.body; p = p.parentElement) {
          const style = getComputedStyle(p);
          if (
            /(auto|scroll|hidden)/.test(style.overflowX) &&
            p.getBoundingClientRect().right <= width + 0.5
          ) {
            clipped = true;
            break;
          }
        }
        if (!clipped) culprits.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}.${el.className}`);
      }
    }
    return { overflow: document.documentElement.scrollWidth - width, culprits: culprits.slice(0, 5) };
  });
}

/** Expects nothing on `page` to reach beyond the viewport horizontally; `what` names the page in a failure. */
export async function expectNoOverflow(page: Page, what: string): Promise<void> {
  expect({ what, ...(await horizontalOverflow(page)) }).toEqual({ what, overflow: 0, culprits: [] });
}

/** A test file's server (cookie delivery unless `settings` say otherwise) and Chromium. */
export interface BrowserServer {
  server: TestServer;
  browser: Browser;
}

/** What {@link startBrowserServer} starts with. */
export interface BrowserServerOptions {
  settings?: Settings;
  /** Accounts to register (with {@link PASSWORD}), their addresses unverified. */
  accounts?: readonly string[];
  /** Accounts to register with their addresses verified (as adding a second factor needs). */
  verifiedAccounts?: readonly string[];
  clock?: () => number;
}

/**
 * For a test file's `beforeAll`: builds the UI if needed, starts a server with `settings` (cookie delivery by
 * default) and `clock` (startServer's), registers `accounts` and `verifiedAccounts` and launches Chromium.
 */
export async function startBrowserServer(options: BrowserServerOptions = {}): Promise<BrowserServer> {
  await ensureBuilt();
  const server = await startServer(
    { tokenDelivery: 'cookie', ...options.settings },
    { clock: options.clock },
  );
  for (const email of options.accounts ?? []) await registerAccount(server, email);
  for (const email of options.verifiedAccounts ?? [])
    await registerAccount(server, email, { verified: true });
  return { server, browser: await launchChromium() };
}

/** For a test file's `afterAll`: closes its pages' contexts, Chromium and the server (any may be missing). */
export async function stopBrowserServer(
  started: Partial<BrowserServer>,
  contexts: readonly BrowserContext[] = [],
): Promise<void> {
  for (const context of contexts) await context.close().catch(() => undefined);
  await started.browser?.close();
  await started.server?.close();
}

/** A test file's SMTP server, and its server and Chromium. */
export interface MailBrowserServer extends BrowserServer {
  smtp: TestSmtp;
}

/**
 * For the `beforeAll` of a test file that follows links in messages: starts a real SMTP server, then does what
 * {@link startBrowserServer} does with a server on a free port that sends its mail there (retrying after 1 s) and
 * whose links point at its own web UI; `settings` go on top.
 */
export async function startMailBrowserServer(options: BrowserServerOptions = {}): Promise<MailBrowserServer> {
  const smtp = await startSmtp();
  try {
    const port = await freePort();
    const started = await startBrowserServer({
      ...options,
      settings: {
        port,
        publicUrl: `http://127.0.0.1:${port}`,
        smtpUrl: smtp.url,
        mailRetryBase: '1s',
        ...options.settings,
      },
    });
    return { smtp, ...started };
  } catch (err) {
    await smtp.stop();
    throw err;
  }
}

/** For the `afterAll` of such a file: what {@link stopBrowserServer} closes, then the SMTP server. */
export async function stopMailBrowserServer(
  started: Partial<MailBrowserServer>,
  contexts: readonly BrowserContext[] = [],
): Promise<void> {
  await stopBrowserServer(started, contexts);
  await started.smtp?.stop();
}

/** The id of the element that has the focus on `page`, if any. */
export function focusedId(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.activeElement?.id);
}

/** What has the focus on `page`: `body` when nothing does (it was lost), else `#` and its id, else its text. */
export function focusedName(page: Page): Promise<string> {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (el === null || el === document.body) return 'body';
    return el.id !== '' ? `#${el.id}` : (el.textContent ?? '').trim();
  });
}

/** Presses Tab until the element with `id` has the focus (at most `max` times); whether it got there. */
export async function tabTo(page: Page, id: string, max = 60): Promise<boolean> {
  for (let i = 0; i < max; i++) {
    if ((await focusedId(page)) === id) return true;
    await page.keyboard.press('Tab');
  }
  return (await focusedId(page)) === id;
}
