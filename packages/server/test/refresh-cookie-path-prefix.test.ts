/**
 * The refresh cookie's `Path` is the refresh route as browsers address it. Behind a proxy that strips a path prefix
 * (`JOT_EXTERNAL_URL=https://host/auth`), clients refresh at `/auth/api/token/refresh`: the cookie is set — and
 * cleared at sign-out — with `Path=/auth/api/token/refresh`, else the browser would never send it and a browser
 * session would end at its first expiry. Without a prefix nothing changes. The server itself is reached here without
 * the prefix, as the proxy forwards it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { ConfigError } from '../src/config/errors.js';
import { loadConfig } from '../src/config/load.js';
import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';

/** The `Set-Cookie` lines of `res`, by cookie name. */
function cookiesOf(res: TestResponse): Map<string, string> {
  const map = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) map.set(line.split('=')[0]!, line);
  return map;
}

/** The `Path` attribute of a `Set-Cookie` line. */
function pathOf(line: string | undefined): string | undefined {
  return /;\s*Path=([^;]*)/i.exec(line ?? '')?.[1];
}

/** A server with `externalUrl` (if any) and the accounts `emails` (the first is the admin). */
async function serverWith(externalUrl: string | undefined, ...emails: string[]): Promise<TestServer> {
  const server = await startServer(externalUrl === undefined ? {} : { externalUrl });
  for (const email of emails) {
    const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
    expect(reg.status, reg.text).toBe(201);
  }
  return server;
}

function signIn(server: TestServer, email: string, delivery: 'cookie' | 'memory'): Promise<TestResponse> {
  return server.request('POST', '/api/login', { body: { email, password: PASSWORD, delivery } });
}

/** Signs in, refreshes with the cookie and signs out: the refresh cookie's path at each step. */
async function refreshCookiePaths(server: TestServer, email: string) {
  const login = await signIn(server, email, 'memory');
  expect(login.status, login.text).toBe(200);
  const set = cookiesOf(login).get('jot_rt');
  const refreshed = await server.request('POST', '/api/token/refresh', {
    headers: { cookie: set!.split(';')[0]!, 'x-csrf-token': login.body.csrf_token as string },
    body: {},
  });
  expect(refreshed.status, refreshed.text).toBe(200);
  const logout = await server.request('POST', '/api/logout', { token: refreshed.body.access_token });
  expect(logout.status).toBe(204);
  const cleared = cookiesOf(logout).get('jot_rt');
  // Cleared means expired (and emptied), not merely set again.
  expect(cleared).toMatch(/^jot_rt=;/);
  expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/i);
  return { set: pathOf(set), rotated: pathOf(cookiesOf(refreshed).get('jot_rt')), cleared: pathOf(cleared) };
}

describe.each([
  ['http://jot.example/auth', '/auth/api/token/refresh'],
  ['http://jot.example/auth/', '/auth/api/token/refresh'],
  ['http://jot.example/a/b', '/a/b/api/token/refresh'],
  ['http://jot.example', '/api/token/refresh'],
  [undefined, '/api/token/refresh'],
])('JOT_EXTERNAL_URL=%s', (externalUrl, expected) => {
  let server: TestServer;
  const email = 'prefix@example.com';
  beforeAll(async () => {
    server = await serverWith(externalUrl, email);
  });
  afterAll(() => server?.close());

  it(`sets, rotates and clears the refresh cookie at Path=${expected}`, async () => {
    expect(await refreshCookiePaths(server, email)).toEqual({
      set: expected,
      rotated: expected,
      cleared: expected,
    });
  });

  it('leaves the access cookie at Path=/ (it goes with every API request, prefix or not)', async () => {
    const login = await signIn(server, email, 'cookie');
    expect(login.status, login.text).toBe(200);
    const cookies = cookiesOf(login);
    expect(pathOf(cookies.get('jot_at'))).toBe('/');
    expect(pathOf(cookies.get('jot_rt'))).toBe(expected);
  });
});

describe('logout-all and account deletion clear the refresh cookie at the prefixed path too', () => {
  let server: TestServer;
  beforeAll(async () => {
    // The first account is the admin, which could not delete itself.
    server = await serverWith('http://jot.example/auth', 'admin@example.com', 'all@example.com');
  });
  afterAll(() => server?.close());

  it.each([
    ['POST', '/api/logout-all'],
    ['DELETE', '/api/account'],
  ])('%s %s', async (method, path) => {
    const login = await signIn(server, 'all@example.com', 'memory');
    expect(login.status, login.text).toBe(200);
    const res = await server.request(method, path, { token: login.body.access_token });
    expect(res.status, res.text).toBe(204);
    expect(pathOf(cookiesOf(res).get('jot_rt'))).toBe('/auth/api/token/refresh');
  });
});

describe('config', () => {
  it('refuses a JOT_EXTERNAL_URL whose path holds ";" (it could not be the cookie Path)', () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'jot-prefix-'));
    try {
      expect(() =>
        loadConfig({
          env: { JOT_EXTERNAL_URL: 'https://jot.example/a;b' },
          file: false,
          overrides: { dataDir },
        }),
      ).toThrow(ConfigError);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
