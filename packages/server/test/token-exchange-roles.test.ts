/**
 * Exchanging an admin's token gives a service no admin power. The Jot admin API authorizes by the `roles` claim of
 * a token for its own audience (`JOT_AUDIENCE`), and refuses a delegated token (`act`, RFC 8693) with 403
 * `ERR_FORBIDDEN` — even when the exchanging client is registered for the server's own audience. And an exchanged
 * token carries no roles (`roles: []`): a service's power for a user is its scope, which the client's registration
 * bounds, so a resource server guarding by role (`@jot/verify`'s `roles: ['admin']`) does not take it for an admin
 * either. Driven with openid-client; the resource server is `@jot/verify`.
 */
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createVerifier, fetchAuth, type Verifier } from '@jot/verify';

import type { TestServer } from './support/jot-server.js';
import { adminToken, registerClient, startIssuer } from './support/oauth.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const REPORTS = 'https://reports.internal';
const insecure = { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' as const };

let server: TestServer;
let admin: string;
let gateway: oidc.Configuration;
let reports: Verifier;

beforeAll(async () => {
  server = await startIssuer({
    roleScopes: '*=profile,admin=admin',
    revocationSecret: 'r'.repeat(40),
    rateLimitAuth: '100000/min',
  });
  admin = await adminToken(server);
  // A service allowed to exchange for the auth server's own audience and for a reports service, with the admin scope.
  const { client, client_secret } = await registerClient(server, admin, {
    client_id: 'gateway',
    name: 'Gateway',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [EXCHANGE],
    scopes: ['admin', 'profile'],
    audiences: [server.url, REPORTS],
  });
  gateway = await oidc.discovery(
    new URL(server.url),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client_secret),
    insecure,
  );
  reports = createVerifier({ issuer: server.url, audience: REPORTS, revocation: 'none' });
});
afterAll(async () => {
  await reports?.close();
  await server?.close();
});

async function exchangeAdmin(audience: string): Promise<string> {
  const exchanged = await oidc.genericGrantRequest(gateway, EXCHANGE, {
    subject_token: admin,
    subject_token_type: AT,
    audience,
  });
  expect(exchanged).toMatchObject({ issued_token_type: AT, scope: 'admin profile' });
  return exchanged.access_token;
}

describe("an admin's exchanged token", () => {
  it('carries no roles: only the scope the client is registered for', async () => {
    expect(decodeJwt(admin).roles).toEqual(['admin']);
    const claims = decodeJwt(await exchangeAdmin(server.url));
    expect(claims).toMatchObject({ act: { sub: 'gateway' }, scope: 'admin profile', roles: [] });
  });

  it("is refused by the Jot admin API with 403 ERR_FORBIDDEN, though it is for the server's own audience", async () => {
    const delegated = await exchangeAdmin(server.url);
    for (const [method, path] of [
      ['GET', '/api/admin/users'],
      ['GET', '/api/admin/clients'],
      ['GET', '/api/admin/keys'],
      ['POST', '/api/admin/keys/rotate'],
    ] as const) {
      const res = await server.request(method, path, {
        token: delegated,
        ...(method === 'POST' ? { body: {} } : {}),
      });
      expect({ route: `${method} ${path}`, status: res.status, code: res.body.code }).toEqual({
        route: `${method} ${path}`,
        status: 403,
        code: 'ERR_FORBIDDEN',
      });
    }
    // Nor is it an admin's credential for the revocation feed or introspection.
    const feed = await server.request('GET', '/api/revocations', { token: delegated });
    expect({ status: feed.status, code: feed.body.code }).toEqual({ status: 401, code: 'ERR_FEED_AUTH' });
    // The admin's own token still is.
    expect((await server.request('GET', '/api/admin/users', { token: admin })).status).toBe(200);
  });

  it('is no admin at a resource server guarding by role, which still sees the scope the client may use', async () => {
    const adminOnly = fetchAuth(reports, { roles: ['admin'] });
    const call = (token: string) =>
      adminOnly(new Request(`${REPORTS}/admin`, { headers: { authorization: `Bearer ${token}` } }));
    const delegated = await call(await exchangeAdmin(REPORTS));
    expect(delegated).toBeInstanceOf(Response);
    const refused = delegated as Response;
    expect(refused.status).toBe(403);
    expect(((await refused.json()) as { code: string }).code).toBe('ERR_FORBIDDEN');
    // The scope the admin registered the client for is what the service may use there.
    const byScope = await fetchAuth(reports, { scopes: ['admin'] })(
      new Request(`${REPORTS}/admin`, {
        headers: { authorization: `Bearer ${await exchangeAdmin(REPORTS)}` },
      }),
    );
    expect(byScope).not.toBeInstanceOf(Response);
  });
});
