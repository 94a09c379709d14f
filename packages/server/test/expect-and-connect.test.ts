/**
 * An `Expect` other than `100-continue` is 417 `ERR_EXPECTATION_FAILED` in the common body (RFC 9110 §10.1.1), not
 * Node's empty 417 nor a request served as if the expectation held; `100-continue` in any case still works. A CONNECT
 * (which Node hands to no route) is 405 `ERR_METHOD_NOT_ALLOWED` with `Allow`, then the connection closes — never a
 * socket dropped without an answer, nor one left open.
 */
import { request as httpRequest } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { startIssuer } from './support/oauth.js';
import { rawRequest } from './support/raw-http.js';

let server: TestServer;
beforeAll(async () => {
  server = await startIssuer();
});
afterAll(async () => {
  await server?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Record<string, unknown>;
}

/** A request through Node's HTTP client (fetch refuses an `Expect` header); the body sent on `100 Continue`. */
function send(method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
      res.on('end', () => {
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
        });
      });
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (/100-continue/i.test(headers.expect ?? '')) req.on('continue', () => req.end(body));
    else req.end(body);
  });
}

const json = { 'content-type': 'application/json' };

describe('Expect', () => {
  it('an expectation other than 100-continue → 417 ERR_EXPECTATION_FAILED in the common body', async () => {
    for (const expectation of ['200-ok', 'foo', '100-continue, foo', 'nonsense=1']) {
      const res = await send('POST', '/api/login', { ...json, expect: expectation }, '{}');
      expect({ expectation, status: res.status }).toEqual({ expectation, status: 417 });
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: expect.stringMatching(/^the expectation ".*" cannot be met/),
        code: 'ERR_EXPECTATION_FAILED',
      });
    }
    const get = await send('GET', '/healthz', { expect: 'foo' });
    expect(get.status).toBe(417);
  });

  it('a huge expectation is quoted bounded', async () => {
    const res = await send('GET', '/healthz', { expect: 'x'.repeat(6000) });
    expect(res.status).toBe(417);
    expect(String(res.body.error_description).length).toBeLessThan(300);
  });

  it('100-continue, in any letter case, gets 100 Continue and the request is served', async () => {
    for (const expectation of ['100-continue', '100-Continue', '100-CONTINUE']) {
      const res = await send('POST', '/api/login', { ...json, expect: expectation }, '{}');
      expect({ expectation, status: res.status, code: res.body.code }).toEqual({
        expectation,
        status: 400,
        code: 'ERR_VALIDATION',
      });
    }
  });

  it('at an OAuth endpoint → 417 in its shape, with no-store', async () => {
    const res = await send(
      'POST',
      '/oauth/token',
      { 'content-type': 'application/x-www-form-urlencoded', expect: 'foo' },
      'grant_type=client_credentials',
    );
    expect(res.status).toBe(417);
    expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_EXPECTATION_FAILED' });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('an HTTP/1.0 request with an expectation gets the same 417', async () => {
    const res = await rawRequest(
      server.url,
      'GET /healthz HTTP/1.0\r\nHost: jot.test\r\nExpect: foo\r\n\r\n',
    );
    expect(res.received).toMatch(/^HTTP\/1\.1 417 /);
    expect(res.body).toMatchObject({ code: 'ERR_EXPECTATION_FAILED' });
  });
});

describe('CONNECT', () => {
  it('to an authority → 405 with an empty Allow, then the connection closes', async () => {
    const res = await rawRequest(
      server.url,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n',
    );
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/\r\nallow: \r\n/);
    expect(res.headers).toMatch(/\r\nconnection: close(\r\n|$)/);
    expect(res.headers).toMatch(/\r\ncontent-type: application\/json/);
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'CONNECT is not allowed on example.com:443: this server opens no tunnels',
      code: 'ERR_METHOD_NOT_ALLOWED',
    });
    expect(res.closed).toBe(true);
  });

  it('to a path → 405 with Allow listing its methods, then closed', async () => {
    const res = await rawRequest(server.url, 'CONNECT /api/login HTTP/1.1\r\nHost: jot.test\r\n\r\n');
    expect(res.status).toBe(405);
    expect(res.headers).toMatch(/\r\nallow: post(\r\n|$)/);
    expect(res.closed).toBe(true);
  });

  it('bytes after a CONNECT are never read as another request', async () => {
    const res = await rawRequest(
      server.url,
      'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\nGET /healthz HTTP/1.1\r\nHost: jot.test\r\n\r\n',
    );
    expect(res.status).toBe(405);
    expect(res.received.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(res.closed).toBe(true);
  });

  it('the server still answers afterwards', async () => {
    await rawRequest(server.url, 'CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n');
    expect((await server.request('GET', '/healthz')).status).toBe(200);
  });
});
