/**
 * Token exchange is least privilege (RFC 8693 §2.2.2, RFC 6749 §5.2): the exchanged token's scope is within the
 * subject token's scope ∩ the client's registered scopes (∩ the requested `scope`), and a requested scope outside
 * that is `invalid_scope`. A client registered with no scopes gets no scope — as its client-credentials tokens do —
 * rather than every scope of the user's token. Driven with openid-client, checked with jose.
 */
import * as oidc from 'openid-client';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from './support/jot-server.js';
import { adminToken, registerClient, startIssuer } from './support/oauth.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const ORDERS = 'https://orders.internal';
const insecure = { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' as const };

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startIssuer({
    roleScopes: '*=profile orders:read,admin=admin',
    rateLimitAuth: '100000/min',
  });
  admin = await adminToken(server); // the first account: role admin, scopes "admin orders:read profile"
});
afterAll(async () => {
  await server?.close();
});

/** A client_secret_basic client allowed to exchange (and to get its own tokens), as openid-client sees it. */
async function exchanger(clientId: string, scopes?: string[]): Promise<oidc.Configuration> {
  const { client, client_secret } = await registerClient(server, admin, {
    client_id: clientId,
    name: clientId,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: [EXCHANGE, 'client_credentials'],
    audiences: [ORDERS],
    ...(scopes === undefined ? {} : { scopes }),
  });
  return oidc.discovery(
    new URL(server.url),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client_secret),
    insecure,
  );
}

function exchange(config: oidc.Configuration, subject: string, scope?: string) {
  return oidc.genericGrantRequest(config, EXCHANGE, {
    subject_token: subject,
    subject_token_type: AT,
    audience: ORDERS,
    ...(scope === undefined ? {} : { scope }),
  });
}

async function refusal(pending: Promise<unknown>): Promise<unknown> {
  const err = await pending.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(oidc.ResponseBodyError);
  return err;
}

describe('the scope of an exchanged token', () => {
  it('is none for a client registered with no scopes, even for an admin subject token', async () => {
    const config = await exchanger('no-scopes');
    expect(decodeJwt(admin).scope).toBe('admin orders:read profile');
    const exchanged = await exchange(config, admin);
    expect(exchanged.scope).toBeUndefined();
    const claims = decodeJwt(exchanged.access_token);
    expect(claims).toMatchObject({ act: { sub: 'no-scopes' }, aud: ORDERS });
    expect(claims).not.toHaveProperty('scope');
    // The same as the client's own tokens: client credentials give a client with no scopes none.
    const own = await oidc.clientCredentialsGrant(config, { resource: ORDERS });
    expect(own.scope).toBeUndefined();
    expect(decodeJwt(own.access_token)).not.toHaveProperty('scope');
  });

  it('asking a client registered with no scopes for any scope is invalid_scope', async () => {
    const config = await exchanger('no-scopes-asking');
    for (const scope of ['admin', 'profile', 'orders:read']) {
      expect(await refusal(exchange(config, admin, scope))).toMatchObject({
        status: 400,
        error: 'invalid_scope',
        cause: { code: 'ERR_SCOPE_WIDENED' },
      });
    }
  });

  it('is the subject token’s scope ∩ the registered scopes, and asking beyond either is invalid_scope', async () => {
    const config = await exchanger('orders-gateway', ['orders:read', 'orders:write']);
    const user = await signUp(server, 'scoped-user@example.com');
    // By default: all of the intersection ("profile" is the user's only, "orders:write" the client's only).
    expect((await exchange(config, user.access_token)).scope).toBe('orders:read');
    expect((await exchange(config, admin)).scope).toBe('orders:read');
    expect((await exchange(config, user.access_token, 'orders:read')).scope).toBe('orders:read');
    for (const scope of ['orders:write', 'profile', 'admin', 'orders:read orders:write']) {
      expect(await refusal(exchange(config, user.access_token, scope))).toMatchObject({
        status: 400,
        error: 'invalid_scope',
        cause: { code: 'ERR_SCOPE_WIDENED' },
      });
    }
  });
});
