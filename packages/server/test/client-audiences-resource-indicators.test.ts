/**
 * A client's registered audiences and the `resource` values at `/oauth/token` follow one rule — RFC 8707 §2's
 * resource indicator: an absolute URI without a fragment (and, here, without percent-escaped control characters, a
 * malformed escape, or a scheme that is script or inline data). Registration refuses what the token endpoint would
 * refuse (400 `ERR_CLIENT_INVALID`), and the token endpoint says why such a `resource` is refused (400
 * `invalid_target`) rather than only that it is not registered. A client's inline JWKS may not give two keys one
 * `kid` (a client assertion naming it could not say which key signed).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { adminToken, clientKeyPair, postForm, registerClient, startIssuer } from './support/oauth.js';

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startIssuer();
  admin = await adminToken(server);
});
afterAll(async () => {
  await server.close();
});

const client = (audiences: string[]) => ({
  name: 'svc',
  token_endpoint_auth_method: 'client_secret_basic',
  grant_types: ['client_credentials'],
  audiences,
});

/** Audiences that are not resource indicators, each with what the refusal names. */
const NOT_RESOURCE_INDICATORS: [string, RegExp][] = [
  ['javascript:alert(1)', /scheme/],
  ['data:text/html,hi', /scheme/],
  ['https://x.com#frag', /fragment/],
  ['https://x.com/#', /fragment/],
  ['https://x.com/%00', /control character/],
  ['https://x.com/a%1fb', /control character/],
  ['https://x.com/%ZZ', /percent/],
  ['/api/orders', /absolute URI/],
  ['api.example.com', /absolute URI/],
  ['https://x.com/a b', /space/],
];

describe('registered audiences', () => {
  it.each(NOT_RESOURCE_INDICATORS)('refuses %j: 400 ERR_CLIENT_INVALID', async (audience, reason) => {
    const res = await server.request('POST', '/api/admin/clients', {
      token: admin,
      body: client([audience]),
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_CLIENT_INVALID', error: 'invalid_client_metadata' });
    expect(res.body.error_description).toMatch(/^audiences: /);
    expect(res.body.error_description).toMatch(reason);
  });

  it.each([
    'https://api.example',
    'https://orders.internal.example.com/api/v1',
    'http://localhost:8080/api',
    'https://api.example/v1?tenant=a',
    'urn:example:orders',
  ])('accepts %j, and a client_credentials token for it as resource', async (audience) => {
    const { client: registered, client_secret } = await registerClient(server, admin, client([audience]));
    const basic = Buffer.from(`${registered.client_id}:${client_secret!}`).toString('base64');
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: audience },
      { authorization: `Basic ${basic}` },
    );
    expect(res.status, res.text).toBe(200);
  });
});

describe('/oauth/token resource values (RFC 8707 §2)', () => {
  let basic: string;

  beforeAll(async () => {
    const { client: registered, client_secret } = await registerClient(
      server,
      admin,
      client(['https://x.com']),
    );
    basic = `Basic ${Buffer.from(`${registered.client_id}:${client_secret!}`).toString('base64')}`;
  });

  it.each(NOT_RESOURCE_INDICATORS)('%j: 400 invalid_target saying why', async (resource, reason) => {
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource },
      { authorization: basic },
    );
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_target', code: 'ERR_INVALID_TARGET' });
    expect(res.body.error_description).toMatch(/RFC 8707/);
    expect(res.body.error_description).toMatch(reason);
  });

  it('a resource longer than 512 characters: 400 invalid_target', async () => {
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: `https://x.com/${'a'.repeat(600)}` },
      { authorization: basic },
    );
    expect(res.status, res.text).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_target', code: 'ERR_INVALID_TARGET' });
    expect(res.body.error_description).toMatch(/512/);
  });

  it('a registered resource is still issued for', async () => {
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: 'https://x.com' },
      { authorization: basic },
    );
    expect(res.status, res.text).toBe(200);
  });
});

describe('inline client JWKS', () => {
  const keyClient = (keys: object[]) => ({
    name: 'signer',
    token_endpoint_auth_method: 'private_key_jwt',
    grant_types: ['client_credentials'],
    audiences: ['https://api.example'],
    jwks: { keys },
  });

  it('refuses two keys with one kid: 400 ERR_CLIENT_INVALID naming the kid', async () => {
    const [a, b] = await Promise.all([clientKeyPair('same'), clientKeyPair('same')]);
    const res = await server.request('POST', '/api/admin/clients', {
      token: admin,
      body: keyClient([a.jwk, b.jwk]),
    });
    expect(res.status, res.text).toBe(400);
    expect(res.body.code).toBe('ERR_CLIENT_INVALID');
    expect(res.body.error_description).toMatch(/kid "same"/);
  });

  it('accepts keys with distinct kids', async () => {
    const [a, b] = await Promise.all([clientKeyPair('k1'), clientKeyPair('k2')]);
    const res = await server.request('POST', '/api/admin/clients', {
      token: admin,
      body: keyClient([a.jwk, b.jwk]),
    });
    expect(res.status, res.text).toBe(201);
  });
});
