/**
 * `@jot/client`'s browser delivery modes against the real server over HTTP: Node's fetch keeps no cookies, so a
 * shared cookie jar (test-support/cookie-jar.ts) plays the browser, and clients sharing it, a lock manager and a
 * real BroadcastChannel are its tabs. Cookie mode (both tokens in HttpOnly cookies, CSRF double submit), a reload
 * that resumes from the cookies alone, memory mode (access token in memory, refresh cookie), one refresh for two
 * tabs — also when the channel is slow and one tab's 401 is handled before the other tab's news — and a sign-out
 * that clears the cookies and ends the other tab. Chromium runs the same modes in the web UI.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

import { COOKIES } from '@jot/contract';

import { signUp, startServer, type TestServer } from '../../server/test/support/jot-server.js';
import { cookieJar, type CookieJar } from '../../../test-support/cookie-jar.js';
import { createClient, type DeliveryMode, type FetchLike, type JotClient } from '../src/index.js';
import { fakeLocks } from './fake-locks.js';
import { next } from './session-events.js';
import { gate } from './support/gate.js';
import { slowBroadcastChannel } from './support/slow-channel.js';

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
  /** Settles once the tabs have asked for the refresh lock `n` times in all. */
  lockRequests(n: number): Promise<void>;
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
  const inner = fakeLocks();
  let requests = 0;
  const asked: Array<{ n: number; open: () => void }> = [];
  const locks: ReturnType<typeof fakeLocks> = {
    get granted() {
      return inner.granted;
    },
    request<T>(name: string, cb: () => Promise<T>): Promise<T> {
      requests++;
      for (const waiter of asked) if (waiter.n <= requests) waiter.open();
      return inner.request(name, cb);
    },
  };
  const lockRequests = (n: number): Promise<void> => {
    const { wait, open } = gate();
    if (n <= requests) open();
    else asked.push({ n, open });
    return wait;
  };
  return { jar, calls, locks, storageKey: `browser-${++storage}`, count, lockRequests };
}

/** A tab of `b` in `mode`; `fetch` (default: the browser's own) can hold one of its requests back. */
function tab(b: Browser, mode: DeliveryMode, fetch: FetchLike = b.jar.fetch): JotClient {
  const c = createClient({
    baseUrl: server.url,
    mode,
    fetch,
    locks: b.locks,
    storageKey: b.storageKey,
  });
  clients.push(c);
  return c;
}

/** How long `holding` holds a call at most: a condition that never comes fails the test's checks, not its timeout. */
const HOLD_LIMIT_MS = 10_000;

/**
 * `b`'s fetch for one tab, with that tab's first `METHOD /path` (`call`) held until `until` settles: before it is
 * sent (`'request'`: as if the network were slow) or after its answer came and before the tab sees it (`'answer'`).
 */
function holding(b: Browser, call: string, until: Promise<void>, at: 'request' | 'answer'): FetchLike {
  let held = false;
  const release = (): Promise<void> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const limit = new Promise<void>((resolve) => (timer = setTimeout(resolve, HOLD_LIMIT_MS)));
    return Promise.race([until, limit]).finally(() => clearTimeout(timer));
  };
  return async (input, init) => {
    const url = input instanceof Request ? input.url : input instanceof URL ? input.href : input;
    const method = (input instanceof Request ? input.method : (init?.method ?? 'GET')).toUpperCase();
    const hold = !held && `${method} ${new URL(url, server.url).pathname}` === call;
    if (hold) held = true;
    if (hold && at === 'request') await release();
    const res = await b.jar.fetch(input, init);
    if (hold && at === 'answer') await release();
    return res;
  };
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

  // Regression: under load the second tab's 401 was handled before the first tab's "refreshed" message arrived,
  // and it refreshed a second time (a wasted rotation). The channel here delivers every message 100 ms late —
  // longer than any wait the tab could guess — so only hearing the channel out before deciding passes.
  describe('while the channel between the tabs is slow', () => {
    afterEach(() => {
      vi.unstubAllGlobals();
    });

    it('a 401 handled after the other tab refreshed, before its message came: one refresh, both pass', async () => {
      vi.stubGlobal('BroadcastChannel', slowBroadcastChannel(100));
      const email = `slow-after-${mode}@example.com`;
      await signUp(server, email, PASSWORD);
      const b = browser();
      const aRefreshed = gate();
      const a = tab(b, mode);
      const other = tab(b, mode, holding(b, 'GET /api/whoami', aRefreshed.wait, 'answer'));
      const started = next(other, 'session:started');
      await a.login(email, PASSWORD);
      await started;
      a.on('session:refreshed', aRefreshed.open);
      await revokeAccessToken(a);
      const [ra, rb] = await Promise.all([a.fetch('/api/whoami'), other.fetch('/api/whoami')]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(b.count('POST /api/token/refresh')).toBe(1);
      expect(b.count('GET /api/whoami 401')).toBe(2);
      expect(a.signedIn && other.signedIn).toBe(true);
      expect(other.expiresAt).toBe(a.expiresAt);
    });

    it('a 401 handled while the other tab refreshes, its message late: one refresh, both pass', async () => {
      vi.stubGlobal('BroadcastChannel', slowBroadcastChannel(100));
      const email = `slow-during-${mode}@example.com`;
      await signUp(server, email, PASSWORD);
      const b = browser();
      // The first tab takes the lock, and its refresh goes out only once the second tab waits for the lock too.
      const a = tab(b, mode, holding(b, 'POST /api/token/refresh', b.lockRequests(2), 'request'));
      const other = tab(b, mode, holding(b, 'GET /api/whoami', b.lockRequests(1), 'answer'));
      const started = next(other, 'session:started');
      await a.login(email, PASSWORD);
      await started;
      await revokeAccessToken(a);
      const [ra, rb] = await Promise.all([a.fetch('/api/whoami'), other.fetch('/api/whoami')]);
      expect([ra.status, rb.status]).toEqual([200, 200]);
      expect(b.count('POST /api/token/refresh')).toBe(1);
      expect(b.count('GET /api/whoami 401')).toBe(2);
      expect(b.locks.granted).toBe(2);
      expect(a.signedIn && other.signedIn).toBe(true);
      expect(other.expiresAt).toBe(a.expiresAt);
    });
  });
});
