/**
 * What `/oauth/*` answers besides a good request: JSON errors, never the web UI's page (the SPA fallback serves only
 * paths outside `/api`, `/oauth` and `/.well-known`) — an unknown path is 404 `ERR_NOT_FOUND` as under `/api`, another
 * method than POST on an endpoint 405 `ERR_METHOD_NOT_ALLOWED` with `Allow: POST` — and, at 429, only an error code
 * RFC 6749 §5.2 registers (`invalid_request`), which a stock client (openid-client 6) surfaces as an OAuth error.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { adminToken, registerClient, startIssuer } from './support/oauth.js';

const insecure = { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' as const };

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startIssuer({ rateLimitClient: '2/60s' });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

describe('/oauth/* outside its endpoints', () => {
  it('an unknown path is a JSON 404 ERR_NOT_FOUND, as under /api', async () => {
    for (const path of [
      '/oauth/nothing',
      '/oauth/token/extra',
      '/oauth/',
      '/oauth',
      '/OAUTH/token',
      '/Api/me',
      '/.well-known',
    ]) {
      const res = await server.request('GET', path);
      expect(res.status).toBe(404);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toMatchObject({ code: 'ERR_NOT_FOUND' });
    }
    const api = await server.request('GET', '/api/nonexistent');
    expect(api.status).toBe(404);
    expect(api.body).toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('another method than POST on an endpoint is 405 with Allow: POST, in the OAuth error shape', async () => {
    const cases = [
      ['GET', '/oauth/token'],
      ['GET', '/oauth/introspect?token=x'],
      ['GET', '/oauth/revoke'],
      ['PUT', '/oauth/token'],
      ['DELETE', '/oauth/revoke'],
    ] as const;
    for (const [method, path] of cases) {
      const res = await server.request(method, path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 405 });
      expect(res.headers.get('allow')).toBe('POST');
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_METHOD_NOT_ALLOWED' });
    }
  });

  it('the web UI is still served at its own paths', async () => {
    const res = await server.request('GET', '/sign-in');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
  });
});

describe('429 at the OAuth endpoints', () => {
  it('uses the registered invalid_request, and openid-client surfaces it as an OAuth error with its status', async () => {
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'stock client',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      audiences: ['https://api.example'],
    });
    const config = await oidc.discovery(
      new URL(server.url),
      client.client_id,
      undefined,
      oidc.ClientSecretBasic(client_secret ?? ''),
      insecure,
    );
    for (let i = 0; i < 2; i++) await oidc.clientCredentialsGrant(config);
    const refused = await oidc.clientCredentialsGrant(config).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(oidc.ResponseBodyError);
    const err = refused as oidc.ResponseBodyError;
    expect(err.error).toBe('invalid_request');
    expect(err.status).toBe(429);
    expect(err.cause).toMatchObject({ code: 'ERR_RATE_LIMITED' });
    expect(Number(err.response.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Introspection and revocation answer the same way (one budget per client across the endpoints).
    await expect(oidc.tokenIntrospection(config, 'x.y.z')).rejects.toMatchObject({
      error: 'invalid_request',
      status: 429,
    });
    await expect(oidc.tokenRevocation(config, 'x.y.z')).rejects.toMatchObject({
      error: 'invalid_request',
      status: 429,
    });
  });
});
