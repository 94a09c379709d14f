/**
 * Bodies are read uncompressed and in UTF-8: a `Content-Encoding` other than `identity` or a JSON/form `charset`
 * other than UTF-8 is refused before any route — 415 `ERR_UNSUPPORTED_MEDIA_TYPE` under `/api` (with
 * `Accept-Encoding: identity` for an encoding, RFC 9110 §15.5.16), RFC 6749 §5.2's 400 `invalid_request` at `/oauth/*` —
 * with a description of the media-type problem, never "not valid JSON" or generic advice.
 */
import { gzipSync } from 'node:zlib';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { postForm, startIssuer } from './support/oauth.js';

let server: TestServer;
beforeAll(async () => {
  server = await startIssuer();
});
afterAll(async () => {
  await server?.close();
});

const login = JSON.stringify({ email: 'nobody@example.com', password: 'long enough password' });
/** A body that reaches the schema (no sign-in attempt is counted): 400 ERR_VALIDATION once read. */
const readable = '{}';

describe('Content-Encoding on a request body', () => {
  it('gzip, br, deflate, an unknown coding or a list → 415 saying to send it uncompressed, Accept-Encoding: identity', async () => {
    for (const coding of ['gzip', 'br', 'deflate', 'x-custom', 'GZIP', 'identity, gzip', 'compress']) {
      const res = await server.request('POST', '/api/login', {
        raw: login,
        headers: { 'content-encoding': coding },
      });
      expect({ coding, status: res.status }).toEqual({ coding, status: 415 });
      expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
      expect(res.body.error_description).toMatch(/^send the body uncompressed/);
      expect(res.headers.get('accept-encoding')).toBe('identity');
    }
  });

  it('a real gzip body is refused the same way, not as bad JSON', async () => {
    const res = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(login),
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('identity (any case) is the body as it is', async () => {
    for (const coding of ['identity', 'IDENTITY', '']) {
      const res = await server.request('POST', '/api/login', {
        raw: readable,
        headers: { 'content-encoding': coding },
      });
      expect({ coding, status: res.status }).toEqual({ coding, status: 400 });
      expect(res.body.code).toBe('ERR_VALIDATION');
    }
  });

  it('a request without a body is not refused for its Content-Encoding', async () => {
    const res = await server.request('GET', '/healthz', { headers: { 'content-encoding': 'gzip' } });
    expect(res.status).toBe(200);
  });
});

describe('charset of a JSON or form body', () => {
  it('another charset than UTF-8 → 415 saying UTF-8 is required, without Accept-Encoding', async () => {
    for (const charset of ['iso-8859-1', 'latin1', 'utf-16', 'US-ASCII', '"windows-1252"', '']) {
      const res = await server.request('POST', '/api/login', {
        raw: login,
        contentType: `application/json; charset=${charset}`,
      });
      expect({ charset, status: res.status }).toEqual({ charset, status: 415 });
      expect(res.body).toMatchObject({ code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
      expect(res.body.error_description).toMatch(/^send the body in UTF-8/);
      expect(res.headers.get('accept-encoding')).toBeNull();
    }
  });

  it('utf-8 and its label utf8, in any case and quoted, are accepted', async () => {
    for (const charset of ['utf-8', 'UTF-8', 'utf8', 'UTF8', '"utf-8"']) {
      const res = await server.request('POST', '/api/login', {
        raw: readable,
        contentType: `application/json;charset=${charset}`,
      });
      expect({ charset, status: res.status, code: res.body.code }).toEqual({
        charset,
        status: 400,
        code: 'ERR_VALIDATION',
      });
    }
  });

  it('a form body at /api/introspect in another charset → 415', async () => {
    const res = await server.request('POST', '/api/introspect', {
      raw: 'token=x',
      contentType: 'application/x-www-form-urlencoded; charset=iso-8859-1',
    });
    expect(res.status).toBe(415);
    expect(res.body).toMatchObject({ code: 'ERR_UNSUPPORTED_MEDIA_TYPE' });
  });

  it('a charset of a huge length is quoted bounded', async () => {
    const res = await server.request('POST', '/api/login', {
      raw: login,
      contentType: `application/json; charset=${'x'.repeat(5000)}`,
    });
    expect(res.status).toBe(415);
    expect(res.body.error_description.length).toBeLessThan(200);
  });
});

describe('at the OAuth endpoints', () => {
  it('a compressed form → 400 invalid_request describing the encoding, with Accept-Encoding and no-store', async () => {
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      const res = await postForm(
        server,
        path,
        { grant_type: 'client_credentials', token: 'x' },
        { 'content-encoding': 'gzip' },
      );
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_OAUTH_REQUEST' });
      expect(res.body.error_description).toMatch(/^send the body uncompressed/);
      expect(res.headers.get('accept-encoding')).toBe('identity');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('a form in another charset → 400 invalid_request saying UTF-8 is required', async () => {
    const res = await server.request('POST', '/oauth/token', {
      raw: 'grant_type=client_credentials',
      contentType: 'application/x-www-form-urlencoded; charset=ISO-8859-1',
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_OAUTH_REQUEST' });
    expect(res.body.error_description).toMatch(/^send the body in UTF-8/);
  });
});
