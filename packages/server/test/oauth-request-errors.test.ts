/**
 * RFC 6749 §5.2 answers for requests the token endpoint cannot use: an over-long refresh token is a bad grant, a
 * body in another media type a malformed request (400 invalid_request, not a 415 with JSON advice; a JSON body is not
 * even parsed at the OAuth endpoints, which take forms only), and a token
 * exchange asking for several audiences is refused (a delegated token is for one service, docs/http-api.md).
 */
/** Review findings on the OAuth endpoints' RFC conformance (each `it` fails on the reviewed code). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { HttpError } from '../src/http/errors.js';
import { asOAuthError } from '../src/http/oauth-errors.js';

import { signUp, type TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startIssuer({ roleScopes: '*=profile orders:read' });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

function basic(id: string, secret: string): Record<string, string> {
  return { authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}` };
}

it('RFC 6749 §5.2: an over-long (hence invalid) refresh token is invalid_grant, not a missing parameter', async () => {
  const res = await postForm(server, '/oauth/token', {
    grant_type: 'refresh_token',
    refresh_token: 'x'.repeat(600),
    client_id: 'jot',
  });
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'invalid_grant' });
});

it('RFC 6749 §5.2: a token request in another media type is a 400 invalid_request, with no JSON advice', async () => {
  const res = await server.request('POST', '/oauth/token', {
    raw: 'grant_type=client_credentials',
    contentType: 'text/plain',
  });
  expect(res.body.error_description).not.toMatch(/application\/json/);
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'invalid_request' });
  expect(res.headers.get('cache-control')).toBe('no-store');
});

it('a token exchange asking for two registered audiences is refused with invalid_target', async () => {
  const { client, client_secret } = await registerClient(server, admin, {
    token_endpoint_auth_method: 'client_secret_basic',
    client_id: 'exchange-gw',
    name: 'Exchange gateway',
    grant_types: [EXCHANGE],
    scopes: ['orders:read'],
    audiences: ['https://orders.internal', 'https://billing.internal'],
  });
  const user = await signUp(server, 'exchange-aud@example.com');
  const params = new URLSearchParams({
    grant_type: EXCHANGE,
    subject_token: user.access_token,
    subject_token_type: AT,
  });
  params.append('audience', 'https://orders.internal');
  params.append('audience', 'https://billing.internal');
  const res = await postForm(server, '/oauth/token', params, basic(client.client_id, client_secret!));
  expect({ status: res.status, error: res.body.error }).toEqual({ status: 400, error: 'invalid_target' });
  // One of them alone is granted, for that audience only.
  const one = new URLSearchParams({
    grant_type: EXCHANGE,
    subject_token: user.access_token,
    subject_token_type: AT,
    audience: 'https://billing.internal',
  });
  const granted = await postForm(server, '/oauth/token', one, basic(client.client_id, client_secret!));
  expect(granted.status).toBe(200);
  const claims = JSON.parse(Buffer.from(granted.body.access_token.split('.')[1], 'base64url').toString());
  expect(claims.aud).toBe('https://billing.internal');
});

describe('the OAuth endpoints take form bodies only (RFC 6749 §3.2, RFC 7009 §2.1, RFC 7662 §2.1)', () => {
  const PATHS = ['/oauth/token', '/oauth/revoke', '/oauth/introspect'];
  /** The answer every refused body gets: the RFC's error, our code, and what to send instead. */
  const FORM_ONLY = {
    error: 'invalid_request',
    error_description: expect.stringMatching(/application\/x-www-form-urlencoded.*UTF-8/),
    code: 'ERR_OAUTH_REQUEST',
  };

  it.each(PATHS)('%s refuses a JSON body unparsed: 400 invalid_request ERR_OAUTH_REQUEST', async (path) => {
    // Valid JSON, JSON the API's parser refuses as not JSON, and JSON it refuses for a forbidden key: all one
    // answer, so none of them was parsed (before, the last two answered ERR_BAD_JSON and ERR_JSON_FORBIDDEN_KEY).
    for (const raw of [
      '{"grant_type":"client_credentials","client_id":"jot"}',
      '{"grant',
      '{"__proto__":{}}',
    ]) {
      const res = await server.request('POST', path, { raw, contentType: 'application/json' });
      expect({ raw, status: res.status, body: res.body }).toEqual({ raw, status: 400, body: FORM_ONLY });
      expect(res.body.error_description).not.toMatch(/JSON/i);
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it.each(PATHS)('%s refuses a body of another type, or of none, the same way', async (path) => {
    for (const contentType of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await server.request('POST', path, { raw: 'token=x', contentType });
      expect({ contentType, status: res.status, body: res.body }).toEqual({
        contentType,
        status: 400,
        body: FORM_ONLY,
      });
    }
    const untyped = await fetch(`${server.url}${path}`, { method: 'POST', body: new Uint8Array([0x61]) });
    expect({ status: untyped.status, body: await untyped.json() }).toEqual({ status: 400, body: FORM_ONLY });
  });

  it('still reads the form a stock client sends, "+" as a space', async () => {
    const res = await postForm(server, '/oauth/token', { grant_type: 'password', client_id: 'jot' });
    expect({ status: res.status, error: res.body.error }).toEqual({
      status: 400,
      error: 'unsupported_grant_type',
    });
    const plus = await server.request('POST', '/oauth/token', {
      raw: 'grant_type=client+credentials%21&client_id=jot',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(plus.body).toMatchObject({
      error: 'unsupported_grant_type',
      error_description: "the grant type 'client credentials!' is not supported",
    });
  });

  it.each(PATHS)(
    '%s refuses a form that is not UTF-8 or has a bad percent-escape as ERR_OAUTH_REQUEST',
    async (path) => {
      for (const raw of ['grant_type=%FF&token=x', 'grant_type=%zz&token=x', 'token=x%4']) {
        const res = await server.request('POST', path, {
          raw,
          contentType: 'application/x-www-form-urlencoded',
        });
        expect({ raw, status: res.status, error: res.body.error, code: res.body.code }).toEqual({
          raw,
          status: 400,
          error: 'invalid_request',
          code: 'ERR_OAUTH_REQUEST',
        });
        expect(res.headers.get('cache-control')).toBe('no-store');
      }
    },
  );
});

describe('asOAuthError: our request errors in RFC 6749 §5.2 terms', () => {
  const mapped = (err: HttpError): ReturnType<HttpError['toBody']> & { status: number } => {
    const out = asOAuthError(err) as HttpError;
    return { status: out.statusCode, ...out.toBody() };
  };

  it('answers a validation error as invalid_request ERR_OAUTH_REQUEST, keeping the description that names it', () => {
    const err = new HttpError(400, 'ERR_VALIDATION', 'body/token must not contain control characters');
    expect(mapped(err)).toEqual({
      status: 400,
      error: 'invalid_request',
      error_description: 'body/token must not contain control characters',
      code: 'ERR_OAUTH_REQUEST',
    });
  });

  it('answers a JSON error as invalid_request ERR_OAUTH_REQUEST with the form as the advice', () => {
    for (const code of ['ERR_BAD_JSON', 'ERR_JSON_FORBIDDEN_KEY'] as const) {
      expect(mapped(new HttpError(400, code, 'the body is not valid JSON'))).toEqual({
        status: 400,
        error: 'invalid_request',
        error_description: expect.stringMatching(
          /^send the parameters as an application\/x-www-form-urlencoded/,
        ),
        code: 'ERR_OAUTH_REQUEST',
      });
    }
  });

  it('answers a 415 (an encoding or charset) as 400 invalid_request ERR_OAUTH_REQUEST with its own description and headers', () => {
    const encoding = new HttpError(
      415,
      'ERR_UNSUPPORTED_MEDIA_TYPE',
      'Content-Encoding "gzip" is not supported',
      { headers: { 'accept-encoding': 'identity' } },
    );
    expect(mapped(encoding)).toEqual({
      status: 400,
      error: 'invalid_request',
      error_description: "Content-Encoding 'gzip' is not supported",
      code: 'ERR_OAUTH_REQUEST',
    });
    const out = asOAuthError(encoding) as HttpError;
    expect(out.headers).toEqual({ 'accept-encoding': 'identity' });
  });

  it('answers two Authorization lines (ERR_AUTH_MALFORMED) as invalid_request ERR_OAUTH_REQUEST, description kept', () => {
    const twice = new HttpError(
      400,
      'ERR_AUTH_MALFORMED',
      'send one Authorization header: this request has 2 (RFC 9110 section 5.3)',
      { error: 'invalid_request' },
    );
    expect(mapped(twice)).toEqual({
      status: 400,
      error: 'invalid_request',
      error_description: 'send one Authorization header: this request has 2 (RFC 9110 section 5.3)',
      code: 'ERR_OAUTH_REQUEST',
    });
  });

  it('keeps a 413 its status and code', () => {
    const large = new HttpError(413, 'ERR_BODY_TOO_LARGE', 'the request body is too large');
    expect(mapped(large)).toMatchObject({
      status: 413,
      error: 'invalid_request',
      code: 'ERR_BODY_TOO_LARGE',
    });
  });
});
