/**
 * What is refused before any route still answers in the one error shape `{ error, error_description, code }`:
 * a request Node's HTTP parser cannot read (400 `ERR_HTTP_MALFORMED`, then the connection closes), headers over
 * Node's size limit (431 `ERR_HEADERS_TOO_LARGE`), a path whose percent-escapes do not decode (400
 * `ERR_HTTP_MALFORMED`) and a path parameter over the router's length limit (414 `ERR_VALIDATION`). The 408 of a
 * slow client is in slow-clients.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestServer } from './support/jot-server.js';
import { rawRequest, type RawAnswer } from './support/raw-http.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

/** Sends `request` as raw bytes and reads the first answer (and whether the connection closes within 5 s). */
function raw(request: string): Promise<RawAnswer> {
  return rawRequest(server.url, request);
}

describe('refused before any route, in the common error shape', () => {
  it('a request the HTTP parser cannot read: 400 ERR_HTTP_MALFORMED, then closed', async () => {
    for (const request of [
      'GET /healthz HTTP/1.1\r\nHost: jot.test\r\nContent-Length: abc\r\n\r\n',
      'POST /api/login HTTP/1.1\r\nHost: jot.test\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\nzz\r\n',
      'BREW /healthz HTTP/1.1\r\nHost: jot.test\r\n\r\n',
    ]) {
      const answer = await raw(request);
      expect(answer.status, request).toBe(400);
      expect(answer.body).toEqual({
        error: 'invalid_request',
        error_description: 'the request is not valid HTTP',
        code: 'ERR_HTTP_MALFORMED',
      });
      expect(answer.headers).toContain('content-type: application/json; charset=utf-8');
      expect(answer.closed).toBe(true);
    }
  });

  it('headers over the size limit: 431 ERR_HEADERS_TOO_LARGE', async () => {
    const answer = await raw(
      `GET /healthz HTTP/1.1\r\nHost: jot.test\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    expect(answer.status).toBe(431);
    expect(answer.body).toMatchObject({ code: 'ERR_HEADERS_TOO_LARGE', error: 'invalid_request' });
    expect(answer.closed).toBe(true);
  });

  it('a path whose percent-escape does not decode: 400 ERR_HTTP_MALFORMED', async () => {
    for (const path of ['/api/sessions/%ZZ', '/oauth/token%E0%A4%A']) {
      const answer = await raw(`DELETE ${path} HTTP/1.1\r\nHost: jot.test\r\nConnection: close\r\n\r\n`);
      expect(answer.status, path).toBe(400);
      expect(answer.body).toMatchObject({ code: 'ERR_HTTP_MALFORMED', error: 'invalid_request' });
    }
  });

  it('a path parameter over the router limit: 414 ERR_VALIDATION', async () => {
    const answer = await raw(
      `DELETE /api/sessions/${'s'.repeat(150)} HTTP/1.1\r\nHost: jot.test\r\nConnection: close\r\n\r\n`,
    );
    expect(answer.status).toBe(414);
    expect(answer.body).toMatchObject({ code: 'ERR_VALIDATION' });
  });
});
