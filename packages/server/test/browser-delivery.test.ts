/**
 * Browser delivery modes over HTTP: HttpOnly cookies with an anti-CSRF token bound into the JWT, the memory mode,
 * and CORS. The real-browser tests live in packages/web/test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { startServer, type TestServer } from './support/jot-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer({ corsOrigins: 'http://app.example' });
  await server.request('POST', '/api/register', {
    body: { email: 'browser@example.com', password: 'a long password' },
  });
});
afterAll(async () => {
  await server.close();
});

function cookiesOf(res: { headers: Headers }): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) map.set(line.split('=')[0]!, line);
  return map;
}

async function cookieLogin(delivery: 'cookie' | 'memory' = 'cookie') {
  const res = await server.request('POST', '/api/login', {
    body: { email: 'browser@example.com', password: 'a long password', delivery },
  });
  const cookies = cookiesOf(res);
  const jar = [...cookies.values()].map((line) => line.split(';')[0]).join('; ');
  return { res, cookies, jar, csrf: res.body.csrf_token as string };
}

describe('cookie mode', () => {
  it('puts tokens only in HttpOnly cookies; the refresh cookie is SameSite=Strict and scoped to the refresh path', async () => {
    const { res, cookies, csrf } = await cookieLogin();
    expect(res.status).toBe(200);
    expect(res.body.access_token).toBeUndefined();
    expect(res.body.refresh_token).toBeUndefined();
    expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const access = cookies.get('jot_at')!;
    const refresh = cookies.get('jot_rt')!;
    expect(access).toMatch(/HttpOnly/);
    expect(access).toMatch(/SameSite=Lax/);
    expect(access).toMatch(/Path=\//);
    expect(refresh).toMatch(/HttpOnly/);
    expect(refresh).toMatch(/SameSite=Strict/);
    expect(refresh).toMatch(/Path=\/api\/token\/refresh/);
    // Plain http here, so no Secure and no __Host- prefix; over https both are set (see below).
    expect(access).not.toMatch(/Secure/);
  });

  it('uses __Host- / __Secure- names and Secure over https (trusted proxy)', async () => {
    const https = await startServer({ trustProxy: 'true' });
    try {
      await https.request('POST', '/api/register', {
        body: { email: 'tls@example.com', password: 'a long password' },
      });
      const res = await https.request('POST', '/api/login', {
        body: { email: 'tls@example.com', password: 'a long password', delivery: 'cookie' },
        headers: { 'x-forwarded-proto': 'https' },
      });
      const cookies = cookiesOf(res);
      expect(cookies.get('__Host-jot_at')).toMatch(/Secure/);
      expect(cookies.get('__Secure-jot_rt')).toMatch(/Secure/);
    } finally {
      await https.close();
    }
  });

  it('binds the CSRF token into the access token as cth', async () => {
    const { cookies, csrf } = await cookieLogin();
    const token = cookies.get('jot_at')!.split(';')[0]!.slice('jot_at='.length);
    const { createHash } = await import('node:crypto');
    expect(decodeUnverified(token).payload.cth).toBe(createHash('sha256').update(csrf).digest('base64url'));
  });

  it('authenticates GETs by cookie and returns the CSRF token from whoami', async () => {
    const { jar, csrf } = await cookieLogin();
    const res = await server.request('GET', '/api/whoami', { headers: { cookie: jar } });
    expect(res.status).toBe(200);
    expect(res.body.csrf_token).toBe(csrf);
  });

  it('refuses a mutating cookie request without or with a wrong X-Csrf-Token (403 ERR_CSRF), accepts the right one', async () => {
    const { jar, csrf } = await cookieLogin();
    const missing = await server.request('POST', '/api/logout-all', { headers: { cookie: jar } });
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe('ERR_CSRF');
    const wrong = await server.request('POST', '/api/logout-all', {
      headers: { cookie: jar, 'x-csrf-token': 'x'.repeat(43) },
    });
    expect(wrong.body.code).toBe('ERR_CSRF');
    const other = await cookieLogin();
    const foreign = await server.request('POST', '/api/logout', {
      headers: { cookie: jar, 'x-csrf-token': other.csrf },
    });
    expect(foreign.body.code).toBe('ERR_CSRF');
    const ok = await server.request('POST', '/api/logout', {
      headers: { cookie: jar, 'x-csrf-token': csrf },
    });
    expect(ok.status).toBe(204);
    expect(cookiesOf(ok).get('jot_at')).toMatch(/Max-Age=0|Expires=Thu, 01 Jan 1970/);
  });

  it('does not let text/plain or form bodies, or X-HTTP-Method-Override, around the check', async () => {
    const { jar } = await cookieLogin();
    const text = await server.request('POST', '/api/logout', {
      headers: { cookie: jar },
      raw: '{}',
      contentType: 'text/plain',
    });
    expect([403, 415]).toContain(text.status);
    const form = await server.request('POST', '/api/logout', {
      headers: { cookie: jar },
      raw: 'a=b',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect([403, 415]).toContain(form.status);
    const override = await server.request('GET', '/api/whoami', {
      headers: { cookie: jar, 'x-http-method-override': 'POST' },
    });
    expect(override.status).toBe(200);
    expect((await server.request('GET', '/api/whoami', { headers: { cookie: jar } })).status).toBe(200);
  });

  it('refreshes from the cookie only with the CSRF header, rotating both cookies', async () => {
    const { cookies, csrf } = await cookieLogin();
    const refreshJar = cookies.get('jot_rt')!.split(';')[0]!;
    const without = await server.request('POST', '/api/token/refresh', {
      headers: { cookie: refreshJar },
      body: {},
    });
    expect(without.status).toBe(403);
    expect(without.body.code).toBe('ERR_CSRF');
    const bootstrap = await server.request('GET', '/api/token/refresh/csrf', {
      headers: { cookie: refreshJar },
    });
    expect(bootstrap.body.csrf_token).toBe(csrf);
    const ok = await server.request('POST', '/api/token/refresh', {
      headers: { cookie: refreshJar, 'x-csrf-token': csrf },
      body: {},
    });
    expect(ok.status).toBe(200);
    expect(ok.body.csrf_token).toBe(csrf);
    const rotated = cookiesOf(ok);
    expect(rotated.get('jot_rt')!.split(';')[0]).not.toBe(refreshJar);
    expect(rotated.get('jot_at')).toBeDefined();
  });

  it('Bearer requests are not subject to the CSRF check', async () => {
    const login = await server.request('POST', '/api/login', {
      body: { email: 'browser@example.com', password: 'a long password' },
    });
    const res = await server.request('POST', '/api/logout', { token: login.body.access_token });
    expect(res.status).toBe(204);
  });
});

describe('memory mode', () => {
  it('returns the access token in the body and the refresh token only as a path-scoped cookie', async () => {
    const { res, cookies, csrf } = await cookieLogin('memory');
    expect(res.body.access_token).toEqual(expect.any(String));
    expect(res.body.refresh_token).toBeUndefined();
    expect(cookies.has('jot_at')).toBe(false);
    const refreshJar = cookies.get('jot_rt')!.split(';')[0]!;
    const next = await server.request('POST', '/api/token/refresh', {
      headers: { cookie: refreshJar, 'x-csrf-token': csrf },
      body: {},
    });
    expect(next.status).toBe(200);
    expect(next.body.access_token).not.toBe(res.body.access_token);
    expect((await server.request('GET', '/api/whoami', { token: next.body.access_token })).status).toBe(200);
  });
});

describe('CORS', () => {
  it('allows only listed origins, with credentials; never reflects others', async () => {
    const allowed = await server.request('OPTIONS', '/api/whoami', {
      headers: { origin: 'http://app.example', 'access-control-request-method': 'GET' },
    });
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://app.example');
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true');
    const evil = await server.request('GET', '/api/whoami', { headers: { origin: 'http://evil.example' } });
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends no CORS headers at all by default', async () => {
    const plain = await startServer();
    try {
      const res = await plain.request('GET', '/healthz', { headers: { origin: 'http://app.example' } });
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
    } finally {
      await plain.close();
    }
  });
});

describe('web UI', () => {
  it('serves an HTML page at / with a strict CSP, and JSON 404s under /api', async () => {
    const res = await server.request('GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    const api = await server.request('GET', '/api/nothing-here');
    expect(api.status).toBe(404);
    expect(api.body.code).toBe('ERR_NOT_FOUND');
  });
});
