/**
 * RFC 6749 §5.2 answers for requests the token endpoint cannot use: an over-long refresh token is a bad grant, a
 * body in another media type a malformed request (400 invalid_request, not a 415 with JSON advice), and a token
 * exchange asking for several audiences is refused (a delegated token is for one service, docs/http-api.md).
 */
/** Review findings on the OAuth endpoints' RFC conformance (each `it` fails on the reviewed code). */
import { afterAll, beforeAll, expect, it } from 'vitest';

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
