/**
 * `GET /api/token/refresh/csrf` (the CSRF bootstrap of a page that reloaded) judges the refresh cookie exactly as
 * `POST /api/token/refresh` would (docs/browser.md, docs/http-api.md). Before, it looked the token up and answered
 * with the session's CSRF token whatever the row said, so a refresh token already rotated — a stolen copy the owner
 * has since refreshed past — got a 200: a liveness oracle for the session that set off no reuse detection, and
 * unknown tokens spent no failure budget (review "opaque values" L3). Now:
 *
 * - a token rotated longer ago than the grace window, or two generations back, is reuse: 401
 *   `ERR_REFRESH_TOKEN_REUSED`, and the session ends with a `refresh_token_reuse` event, as the refresh would;
 * - the immediately previous token within the window (its successor unused) still gets the CSRF token: the refresh
 *   would hand it the same successor (two tabs, one reloading while the other refreshes);
 * - a token the server never issued spends the address's failed-refresh budget (`JOT_RATE_LIMIT_AUTH`), shared with
 *   the refresh route; a stale one it issued costs nothing.
 */
import { randomInt } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';
const BUDGET = 4;

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

let now = Date.UTC(2031, 2, 3, 9, 0, 0);
let server: TestServer;

beforeAll(async () => {
  server = await startServer(
    { refreshGraceWindow: '10s', rateLimitAuth: `${BUDGET}/60s`, trustProxy: true },
    { clock: () => now },
  );
  const reg = await server.request('POST', '/api/register', {
    body: { email: 'reload@example.com', password: PASSWORD },
    headers: { 'x-forwarded-for': freshAddress() },
  });
  expect(reg.status, reg.text).toBe(201);
});
afterAll(async () => {
  await server?.close();
});

/** The `jot_rt=…` pair a response set. */
function refreshCookie(res: TestResponse): string {
  const line = res.headers.getSetCookie().find((l) => l.startsWith('jot_rt='));
  expect(line, 'the response sets the refresh cookie').toBeDefined();
  return line!.split(';')[0]!;
}

/** A memory-mode sign-in (the refresh token in its cookie): the cookie, CSRF token and access token. */
async function signIn(): Promise<{ cookie: string; csrf: string; accessToken: string }> {
  const res = await server.request('POST', '/api/login', {
    body: { email: 'reload@example.com', password: PASSWORD, delivery: 'memory' },
    headers: { 'x-forwarded-for': freshAddress() },
  });
  expect(res.status, res.text).toBe(200);
  return {
    cookie: refreshCookie(res),
    csrf: res.body.csrf_token as string,
    accessToken: res.body.access_token,
  };
}

async function refresh(cookie: string, csrf: string, address = freshAddress()): Promise<TestResponse> {
  return server.request('POST', '/api/token/refresh', {
    headers: { cookie, 'x-csrf-token': csrf, 'x-forwarded-for': address },
    body: {},
  });
}

function bootstrap(cookie: string, address = freshAddress()): Promise<TestResponse> {
  return server.request('GET', '/api/token/refresh/csrf', {
    headers: { cookie, 'x-forwarded-for': address },
  });
}

async function reuseEvents(): Promise<number> {
  return (await server.app.jot.store.listSecurityEvents({ limit: 1000, type: 'refresh_token_reuse' })).length;
}

describe('GET /api/token/refresh/csrf', () => {
  it('refuses a refresh token rotated past the grace window as reuse, and the session ends', async () => {
    const { cookie: rt0, csrf } = await signIn();
    const next = await refresh(rt0, csrf);
    expect(next.status, next.text).toBe(200);
    const rt1 = refreshCookie(next);
    now += 10_000;
    const events = await reuseEvents();

    const stale = await bootstrap(rt0);
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_TOKEN_REUSED' });
    expect(stale.body.csrf_token).toBeUndefined();
    expect(await reuseEvents()).toBe(events + 1);
    // The whole session ended: its current token neither bootstraps nor refreshes.
    expect((await bootstrap(rt1)).status).toBe(401);
    expect((await refresh(rt1, csrf)).status).toBe(401);
  });

  it('refuses the token two generations back as reuse even inside the window', async () => {
    const { cookie: rt0, csrf } = await signIn();
    const rt1 = refreshCookie(await refresh(rt0, csrf));
    now += 1000;
    const rt2 = refreshCookie(await refresh(rt1, csrf));
    now += 1000;
    const stale = await bootstrap(rt0);
    expect(stale.status).toBe(401);
    expect(stale.body.code).toBe('ERR_REFRESH_TOKEN_REUSED');
    expect((await refresh(rt2, csrf)).status).toBe(401);
  });

  it('gives the previous token its CSRF token inside the window (9.999 s), as the refresh gives it the successor', async () => {
    const { cookie: rt0, csrf } = await signIn();
    const rt1 = refreshCookie(await refresh(rt0, csrf));
    now += 9_999;
    const again = await bootstrap(rt0);
    expect(again.status, again.text).toBe(200);
    expect(again.body.csrf_token).toBe(csrf);
    expect(again.headers.get('cache-control')).toBe('no-store');
    // Nothing ended: the current token bootstraps and refreshes.
    expect((await bootstrap(rt1)).body.csrf_token).toBe(csrf);
    expect((await refresh(rt1, csrf)).status).toBe(200);
  });

  it('spends the address’s failed-refresh budget on tokens the server never issued, not on its own stale ones', async () => {
    const { cookie, csrf } = await signIn();
    const office = freshAddress();
    // A stale token the server issued (its session logged out): refused, free.
    const out = await signIn();
    const logout = await server.request('POST', '/api/logout', {
      token: out.accessToken,
      headers: { 'x-forwarded-for': freshAddress() },
    });
    expect(logout.status).toBeLessThan(300);
    for (let i = 0; i < BUDGET + 2; i++) expect((await bootstrap(out.cookie, office)).status).toBe(401);
    expect((await bootstrap(cookie, office)).status).toBe(200);

    for (let i = 0; i < BUDGET; i++) {
      const guess = await bootstrap(`jot_rt=guess-${i}-${'x'.repeat(40)}`, office);
      expect(guess.status).toBe(401);
      expect(guess.body.code).toBe('ERR_REFRESH_TOKEN_INVALID');
    }
    const limited = await bootstrap(cookie, office);
    expect(limited.status).toBe(429);
    expect(limited.body.code).toBe('ERR_RATE_LIMITED');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // One budget with the refresh route.
    expect((await refresh(cookie, csrf, office)).status).toBe(429);
  });
});
