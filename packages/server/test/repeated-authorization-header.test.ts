/**
 * `Authorization` is a singleton field (RFC 9110 §5.3, §11.6.2): a request with two `Authorization` header lines is
 * refused with 400 on every route, never answered for the first one (Node keeps only the first in
 * `request.headers`, so a proxy that takes the last would disagree with Jot about who is calling). The JSON API answers
 * `ERR_AUTH_MALFORMED`, the OAuth endpoints RFC 6749's `invalid_request` (`ERR_OAUTH_REQUEST`). Two `DPoP` lines are
 * refused too (RFC 9449 §4.3: exactly one proof). The requests go out through `node:http` with an array header, so
 * the lines really are separate (`fetch` joins repeated names into one line).
 */
import { request as httpRequest } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from './support/jot-server.js';
import { registerClient, startIssuer } from './support/oauth.js';

const SECRET = 'r'.repeat(40);
let server: TestServer;
let user: string;
let basic: string;

beforeAll(async () => {
  server = await startIssuer({ revocationSecret: SECRET });
  const admin = await signUp(server, 'admin@example.com');
  user = (await signUp(server, 'user@example.com')).access_token;
  const { client, client_secret } = await registerClient(server, admin.access_token, {
    name: 'machine',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    audiences: ['https://api.example'],
  });
  basic = `Basic ${Buffer.from(`${client.client_id}:${client_secret!}`).toString('base64')}`;
});
afterAll(async () => {
  await server.close();
});

interface Raw {
  status: number;
  body: { error?: string; code?: string; error_description?: string; [k: string]: unknown };
}

/** Sends a request whose `headers` may repeat a name (an array value is one line per element). */
function send(
  method: string,
  path: string,
  headers: Record<string, string | string[]>,
  body?: string,
): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${server.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

describe('two Authorization header lines', () => {
  it('GET /api/whoami: one valid Bearer is 200; with a second line, in either order, 400 ERR_AUTH_MALFORMED', async () => {
    expect((await send('GET', '/api/whoami', { authorization: `Bearer ${user}` })).status).toBe(200);
    for (const lines of [
      [`Bearer ${user}`, 'Bearer garbage'],
      ['Bearer garbage', `Bearer ${user}`],
      [`Bearer ${user}`, `Bearer ${user}`],
    ]) {
      const res = await send('GET', '/api/whoami', { authorization: lines });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_AUTH_MALFORMED' });
      expect(res.body.error_description).toMatch(/one Authorization header/);
    }
  });

  it('POST /oauth/token: valid Basic alone issues a token; with a Bearer line too, 400 invalid_request', async () => {
    const form = 'grant_type=client_credentials';
    const alone = await send('POST', '/oauth/token', { ...FORM, authorization: basic }, form);
    expect(alone.status, JSON.stringify(alone.body)).toBe(200);
    const res = await send('POST', '/oauth/token', { ...FORM, authorization: [basic, 'Bearer x'] }, form);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_OAUTH_REQUEST' });
    expect(res.body).not.toHaveProperty('access_token');
  });

  it('POST /oauth/introspect and /oauth/revoke: 400 invalid_request', async () => {
    for (const path of ['/oauth/introspect', '/oauth/revoke']) {
      const res = await send('POST', path, { ...FORM, authorization: [basic, basic] }, 'token=x.y.z');
      expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_OAUTH_REQUEST' });
    }
  });

  it('GET /api/revocations: the secret alone is 200; with a garbage line too, 400 ERR_AUTH_MALFORMED', async () => {
    expect((await send('GET', '/api/revocations', { authorization: `Bearer ${SECRET}` })).status).toBe(200);
    const res = await send('GET', '/api/revocations', { authorization: [`Bearer ${SECRET}`, 'Bearer x'] });
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.code).toBe('ERR_AUTH_MALFORMED');
  });

  it('a route that reads no credentials refuses it too (the request is malformed, whatever the route)', async () => {
    const res = await send('GET', '/.well-known/jwks.json', { authorization: ['Bearer a', 'Bearer b'] });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_AUTH_MALFORMED');
  });
});

describe('two DPoP header lines', () => {
  it('POST /api/login: 400 invalid_dpop_proof (RFC 9449 §4.3: exactly one proof)', async () => {
    const res = await send(
      'POST',
      '/api/login',
      { 'content-type': 'application/json', dpop: ['a.b.c', 'd.e.f'] },
      JSON.stringify({ email: 'user@example.com', password: 'correct horse battery' }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_PROOF_INVALID' });
  });
});
