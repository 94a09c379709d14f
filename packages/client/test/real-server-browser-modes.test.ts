/**
 * `@jot/client`'s browser delivery modes against the real server over HTTP: Node's fetch keeps no cookies, so a
 * shared cookie jar (test-support/cookie-jar.ts) plays the browser, and clients sharing it, a lock manager and a
 * real BroadcastChannel are its tabs. Cookie mode (both tokens in HttpOnly cookies, CSRF double submit), a reload
 * that resumes from the cookies alone, memory mode (access token in memory, refresh cookie), one refresh for two
 * tabs, and a sign-out that clears the cookies and ends the other tab. Chromium runs the same modes in the web UI.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { COOKIES } from '@jot/contract';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { cookieJar, type CookieJar } from '../../../test-support/cookie-jar.js';
import { createClient, type DeliveryMode, type JotClient } from '../src/index.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';

const PASSWORD = 'correct horse battery';
let server: TestServer;
let host: string;
const clients: JotClient[] = [];
let storage = 0;

beforeAll(async () => {
  server = await startServer();
  host = new URL(server.url).host;
});
afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
});

/** One browser: a cookie jar, and the requests its tabs made as "METHOD /path status". */
interface Browser {
  jar: CookieJar;
  calls: string[];
  locks: ReturnType<typeof fakeLocks>;
  storageKey: string;
  count(prefix: string): number;
}

function browser(): Browser {
  const calls: string[] = [];
  const jar = cookieJar(async (input, init) => {
    const req = new Request(input, init);
    const res = await fetch(req);
    calls.push(`${req.method} ${new URL(req.url).pathname} ${res.status}`);
    return res;
  });
  const count = (prefix: string): number => calls.filter((c) => c.startsWith(prefix)).length;
  return { jar, calls, locks: fakeLocks(), storageKey: `browser-${++storage}`, count };
}

/** A tab of `b` in `mode`. */
function tab(b: Browser, mode: DeliveryMode): JotClient {
  const c = createClient({
    baseUrl: server.url,
    mode,
    fetch: b.jar.fetch,
    locks: b.locks,
    storageKey: b.storageKey,
  });
  clients.push(c);
  return c;
}

/** Revokes the access token the session currently holds (as a logout elsewhere or an admin would). */
async function revokeAccessToken(c: JotClient): Promise<void> {
  const { jti, exp } = (await c.whoami()).claims;
  await server.app.jot.revocations.revokeToken(jti, exp);
}

describe('cookie mode against the real server', () => {
  it('keeps both tokens in cookies; writes need the CSRF header, which the client sends', async () => {
    await signUp(server, 'cookie@example.com', PASSWORD);
    const b = browser();
    const c = tab(b, 'cookie');
    const sent: Request[] = [];
    const spy = createClient({
      baseUrl: server.url,
      mode: 'cookie',
      locks: null,
      broadcast: false,
      fetch: (input, init) => {
        const req = new Request(input, init);
        sent.push(req.clone());
        return b.jar.fetch(req);
      },
    });
    clients.push(spy);
    await c.login('cookie@example.com', PASSWORD);
    expect(b.jar.get(host, COOKIES.access.plain)).toMatch(/^eyJ/);
    expect(b.jar.get(host, COOKIES.refresh.plain)).toBeDefined();
    expect(await spy.resume()).toBe(true);
    const res = await spy.fetch('/api/account', {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Ada' }),
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ name: 'Ada' });
    expect(sent.every((r) => r.headers.get('authorization') === null)).toBe(true);
    expect(sent.at(-1)!.headers.get('x-csrf-token')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // The cookie alone does not make a write: without the header the server refuses it.
    const forged = await b.jar.fetch(`${server.url}/api/account`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Mallory' }),
    });
    expect(forged.status).toBe(403);
    expect(await forged.json()).toMatchObject({ code: 'ERR_CSRF' });
  });

  it('a reload resumes from the cookies alone, fetching the CSRF token to refresh a dead access token', async () => {
    await signUp(server, 'reload@example.com', PASSWORD);
    const b = browser();
    const first = tab(b, 'cookie');
    await first.login('reload@example.com', PASSWORD);
    await revokeAccessToken(first);
    first.close();
    const reloaded = tab(b, 'cookie');
    expect(await reloaded.resume()).toBe(true);
    expect(b.calls.slice(-3)).toEqual([
      'GET /api/whoami 401',
      'GET /api/token/refresh/csrf 200',
      'POST /api/token/refresh 200',
    ]);
    expect((await reloaded.whoami()).user.email).toBe('reload@example.com');
  });

  it('signing out clears the cookies and ends the session in the other tab', async () => {
    await signUp(server, 'logout@example.com', PASSWORD);
    const b = browser();
    const [a, other] = [tab(b, 'cookie'), tab(b, 'cookie')];
    const started = next(other, 'session:started');
    await a.login('logout@example.com', PASSWORD);
    expect(await started).toMatchObject({ source: 'other-tab' });
    const ended = next(other, 'session:ended');
    await a.logout();
    expect(await ended).toEqual({ reason: 'other-tab' });
    expect(b.jar.get(host, COOKIES.access.plain)).toBeUndefined();
    expect(b.jar.get(host, COOKIES.refresh.plain)).toBeUndefined();
    expect(await tab(b, 'cookie').resume()).toBe(false);
  });
});

describe('memory mode against the real server', () => {
  it('holds the access token in memory and refreshes with the refresh cookie and the CSRF header', async () => {
    await signUp(server, 'memory@example.com', PASSWORD);
    const b = browser();
    const c = tab(b, 'memory');
    await c.login('memory@example.com', PASSWORD);
    expect(b.jar.get(host, COOKIES.access.plain)).toBeUndefined();
    expect(b.jar.get(host, COOKIES.refresh.plain)).toBeDefined();
    await revokeAccessToken(c);
    expect((await c.fetch('/api/whoami')).status).toBe(200);
    expect(b.calls.slice(-3)).toEqual([
      'GET /api/whoami 401',
      'POST /api/token/refresh 200',
      'GET /api/whoami 200',
    ]);
  });
});

describe.each(['cookie', 'memory'] as const)('two tabs of one browser in %s mode', (mode) => {
  it('a refused token in both tabs at once: one refresh, no reuse, both retry and pass', async () => {
    const email = `tabs-${mode}@example.com`;
    await signUp(server, email, PASSWORD);
    const b = browser();
    const [a, other] = [tab(b, mode), tab(b, mode)];
    const started = next(other, 'session:started');
    await a.login(email, PASSWORD);
    await started;
    await revokeAccessToken(a);
    const [ra, rb] = await Promise.all([a.fetch('/api/whoami'), other.fetch('/api/whoami')]);
    expect([ra.status, rb.status]).toEqual([200, 200]);
    expect(b.count('POST /api/token/refresh')).toBe(1);
    expect(b.count('POST /api/token/refresh 200')).toBe(1);
    expect(a.signedIn && other.signedIn).toBe(true);
  });
});
