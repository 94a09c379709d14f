/**
 * A method a known path does not take is 405 `ERR_METHOD_NOT_ALLOWED` with `Allow` listing the path's methods (RFC
 * 9110 §15.5.6), under `/api`, at the OAuth endpoints (their shape and `Cache-Control: no-store`) and on the web UI's
 * pages; a path nothing answers at stays 404. CORS preflights stay the CORS plugin's when CORS is configured.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { allowedMethods } from '../src/http/allowed-methods.js';
import type { RouteEntry } from '../src/http/route-table.js';
import { startServer, type TestServer } from './support/jot-server.js';

function route(method: string, url: string, serves?: (path: string) => boolean): RouteEntry {
  return { method, url, schema: undefined, serves };
}

describe('allowedMethods', () => {
  const table = [
    route('POST', '/api/logout'),
    route('GET', '/api/sessions'),
    route('DELETE', '/api/sessions/:id'),
    route('PATCH', '/api/admin/clients/:id'),
    route('GET', '/api/admin/clients/:id'),
    route('GET', '/*', (path) => !path.startsWith('/api/')),
  ];

  it('lists the methods of every route matching the path, HEAD with GET, in a fixed order', () => {
    expect(allowedMethods(table, '/api/logout')).toEqual(['POST']);
    expect(allowedMethods(table, '/api/sessions')).toEqual(['GET', 'HEAD']);
    expect(allowedMethods(table, '/api/sessions/abc')).toEqual(['DELETE']);
    expect(allowedMethods(table, '/api/admin/clients/c1')).toEqual(['GET', 'HEAD', 'PATCH']);
    expect(allowedMethods(table, '/sign-in')).toEqual(['GET', 'HEAD']);
  });

  it('is empty for a path no route serves: a wildcard route decides which of its matches it serves', () => {
    expect(allowedMethods(table, '/api/nope')).toEqual([]);
    expect(allowedMethods(table, '/api/sessions/a/b')).toEqual([]);
    expect(allowedMethods(table, '/api/logout/')).toEqual([]);
  });
});

async function expect405(
  server: TestServer,
  method: string,
  path: string,
  allow: string,
): Promise<Awaited<ReturnType<TestServer['request']>>> {
  const res = await server.request(method, path);
  expect({ method, path, status: res.status, allow: res.headers.get('allow') }).toEqual({
    method,
    path,
    status: 405,
    allow,
  });
  if (method !== 'HEAD') {
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: expect.stringMatching(new RegExp(`^${method} is not allowed on `)),
      code: 'ERR_METHOD_NOT_ALLOWED',
    });
  }
  return res;
}

describe('without CORS', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a wrong method on an /api path → 405 with Allow', async () => {
    await expect405(server, 'GET', '/api/logout', 'POST');
    await expect405(server, 'PUT', '/api/login', 'POST');
    await expect405(server, 'HEAD', '/api/logout', 'POST');
    await expect405(server, 'DELETE', '/api/whoami', 'GET, HEAD');
    await expect405(server, 'PUT', '/api/admin/clients/some-client', 'GET, HEAD, PATCH, DELETE');
    await expect405(server, 'GET', '/api/logout?all=1', 'POST');
    const res = await expect405(server, 'PATCH', '/api/login', 'POST');
    expect(res.body.error_description).toBe('PATCH is not allowed on /api/login; use POST');
  });

  it('OPTIONS, with no CORS to answer it, → 405 with Allow', async () => {
    await expect405(server, 'OPTIONS', '/api/login', 'POST');
    await expect405(server, 'OPTIONS', '/oauth/token', 'POST');
  });

  it('a method other than GET on a page of the web UI → 405 Allow: GET, HEAD', async () => {
    await expect405(server, 'POST', '/sign-in', 'GET, HEAD');
    await expect405(server, 'POST', '/', 'GET, HEAD');
    await expect405(server, 'DELETE', '/account/settings', 'GET, HEAD');
  });

  it('another method at an OAuth endpoint → 405 Allow: POST in its shape, with no-store', async () => {
    for (const [method, path] of [
      ['GET', '/oauth/token'],
      ['PUT', '/oauth/revoke'],
      ['DELETE', '/oauth/introspect'],
      ['HEAD', '/oauth/token'],
    ] as const) {
      const res = await expect405(server, method, path, 'POST');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('a path nothing answers at stays 404, whatever the method', async () => {
    for (const [method, path] of [
      ['GET', '/api/nope'],
      ['POST', '/api/nope'],
      ['OPTIONS', '/api/nope'],
      ['PUT', '/oauth/nothing'],
      ['POST', '/api/logout/extra'],
      ['POST', '/missing-file.js'],
      ['GET', '/OAUTH/token'],
    ] as const) {
      const res = await server.request(method, path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND' });
      expect(res.headers.get('allow')).toBeNull();
    }
  });

  it('a path parameter over the router limit is 414 for GET too (the web UI catch-all stands behind it)', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await server.request(method, `/api/admin/clients/${'c'.repeat(150)}`);
      expect({ method, status: res.status }).toEqual({ method, status: 414 });
      expect(res.body).toMatchObject({ code: 'ERR_VALIDATION' });
    }
  });

  it('the right method still reaches the route', async () => {
    expect((await server.request('GET', '/sign-in')).status).toBe(200);
    expect((await server.request('POST', '/api/logout')).status).not.toBe(405);
    expect((await server.request('HEAD', '/healthz')).status).toBe(200);
  });
});

describe('with CORS configured', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ corsOrigins: 'https://app.example' });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('a preflight is still answered by CORS; a wrong method is still 405', async () => {
    const preflight = await server.request('OPTIONS', '/api/login', {
      headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://app.example');
    await expect405(server, 'GET', '/api/logout', 'POST');
  });
});
