/**
 * DPoP in real Chromium: `@jot/client` in memory mode with `dpop: true` on a page served from the Jot server's
 * origin. The key pair is made non-extractable and kept in IndexedDB; the session survives reloads (the refresh
 * after a reload carries a proof from the same key); and a token copied out of the page is refused when replayed
 * from Node — as Bearer, as DPoP without a proof, with a replayed proof, or with a proof from another key.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair } from '@jot/jose';

import { startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { available, launchChromium, PASSWORD } from './support/browser.js';

const here = dirname(fileURLToPath(import.meta.url));
const EMAIL = 'dpop@jot.test';

describe.runIf(available)('DPoP-bound session in Chromium (memory mode)', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let outDir: string;
  const files = new Map<string, { body: Buffer; type: string }>();

  beforeAll(async () => {
    outDir = mkdtempSync(join(tmpdir(), 'jot-dpop-page-'));
    await build({
      configFile: false,
      root: resolve(here, 'fixtures/dpop-page'),
      base: '/dpop-page/',
      logLevel: 'warn',
      build: { outDir, emptyOutDir: true, minify: false },
    });
    const index = readFileSync(join(outDir, 'index.html'));
    files.set('/dpop-page/', { body: index, type: 'text/html' });
    for (const match of index.toString().matchAll(/\/dpop-page\/(assets\/[^"]+\.js)/g)) {
      files.set(`/dpop-page/${match[1]}`, {
        body: readFileSync(join(outDir, match[1]!)),
        type: 'text/javascript',
      });
    }
    server = await startServer({ tokenDelivery: 'memory', accessTokenTtl: '30s' });
    const reg = await server.request('POST', '/api/register', { body: { email: EMAIL, password: PASSWORD } });
    expect(reg.status).toBe(201);
    browser = await launchChromium();
    const context = await browser.newContext();
    // The page is served on the server's own origin (same-origin client, cookies and IndexedDB of that origin).
    await context.route(`${server.url}/dpop-page/**`, (route) => {
      const file = files.get(new URL(route.request().url()).pathname);
      return file === undefined
        ? route.fulfill({ status: 404 })
        : route.fulfill({ body: file.body, contentType: file.type });
    });
    page = await context.newPage();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    if (outDir !== undefined) rmSync(outDir, { recursive: true, force: true });
  });

  async function load(): Promise<void> {
    await page.goto(`${server.url}/dpop-page/`);
    await page.waitForFunction(() => document.title === 'ready');
  }

  /** Calls whoami from the page; returns the claims and the headers the page sent. */
  async function whoamiFromPage(): Promise<{ jkt: string; authorization: string; dpop: string }> {
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/whoami'));
    const jkt = await page.evaluate(async () => {
      const who = await (globalThis as any).jot.whoami();
      return who.claims.cnf.jkt as string;
    });
    const request = await sent;
    const headers = await request.allHeaders();
    return { jkt, authorization: headers.authorization!, dpop: headers.dpop! };
  }

  it('signs in with a non-extractable key kept in IndexedDB, and survives a reload', async () => {
    await load();
    await page.evaluate(
      ([email, password]) => (globalThis as any).jot.login(email, password),
      [EMAIL, PASSWORD],
    );
    const first = await whoamiFromPage();
    expect(first.authorization).toMatch(/^DPoP /);

    const key = await page.evaluate(async () => {
      const db: IDBDatabase = await new Promise((ok, fail) => {
        const req = indexedDB.open('jot-dpop');
        req.onsuccess = () => ok(req.result);
        req.onerror = () => fail(new Error(String(req.error)));
      });
      const pair: CryptoKeyPair = await new Promise((ok, fail) => {
        const req = db.transaction('keys').objectStore('keys').get('dpop');
        req.onsuccess = () => ok(req.result);
        req.onerror = () => fail(new Error(String(req.error)));
      });
      const exported = await crypto.subtle.exportKey('jwk', pair.privateKey).then(
        () => 'exported',
        () => 'refused',
      );
      return { extractable: pair.privateKey.extractable, exported };
    });
    expect(key).toEqual({ extractable: false, exported: 'refused' });

    await page.reload();
    await page.waitForFunction(() => document.title === 'ready');
    expect(await page.evaluate(() => (globalThis as any).jot.resume())).toBe(true);
    const after = await whoamiFromPage();
    expect(after.jkt).toBe(first.jkt);
    expect(after.authorization).not.toBe(first.authorization); // a new access token, from the refresh
  });

  it('refuses the copied token from Node without the key', async () => {
    const { authorization, dpop } = await whoamiFromPage();
    const token = authorization.replace(/^DPoP /, '');
    const url = `${server.url}/api/whoami`;
    const attempts = {
      bearer: await fetch(url, { headers: { authorization: `Bearer ${token}` } }),
      noProof: await fetch(url, { headers: { authorization: `DPoP ${token}` } }),
      replayedProof: await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop } }),
      otherKey: await fetch(url, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: createDPoPProof(generateKeyPair('ES256'), { htm: 'GET', htu: url, accessToken: token }),
        },
      }),
    };
    const codes: Record<string, string> = {};
    for (const [name, res] of Object.entries(attempts)) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^DPoP error="/);
      codes[name] = ((await res.json()) as { code: string }).code;
    }
    expect(codes).toEqual({
      bearer: 'ERR_DPOP_REQUIRED',
      noProof: 'ERR_DPOP_REQUIRED',
      replayedProof: 'ERR_DPOP_PROOF_REPLAYED',
      otherKey: 'ERR_DPOP_KEY_MISMATCH',
    });
    // The page itself still works.
    expect((await whoamiFromPage()).authorization).toMatch(/^DPoP /);
  });
});
