/**
 * Shared by the real-browser suites: Debian's Chromium through playwright-core, the UI built when missing or stale,
 * the screenshot folder, and layout measurements.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';

export const CHROMIUM = '/usr/bin/chromium';
const here = dirname(fileURLToPath(import.meta.url));
/** Whether the browser suites can run here. */
export const available = existsSync(CHROMIUM);

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
