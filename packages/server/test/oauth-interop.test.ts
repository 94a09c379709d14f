/**
 * Interoperability with a stock OAuth client: openid-client 6, used exactly as its documentation shows — RFC 8414
 * discovery, the refresh grant as the first-party public client, client credentials with private_key_jwt and
 * client_secret_basic, token exchange (RFC 8693), revocation (RFC 7009), introspection (RFC 7662) and DPoP (RFC 9449,
 * openid-client's DPoP handle, also for exchanging a DPoP-bound token). No Jot glue: every call is an openid-client call (but one: a DPoP proof made by `jose`
 * is posted as a plain form), and the tokens are checked with `jose`, another stock library.
 */
import * as oidc from 'openid-client';
import {
  calculateJwkThumbprint,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
  SignJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { adminToken, clientKeyPair, postForm, registerClient, startIssuer } from './support/oauth.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const insecure = { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' as const };

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startIssuer({ roleScopes: '*=profile orders:read orders:write,admin=admin' });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

function discover(clientId: string, auth?: oidc.ClientAuth): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(server.url), clientId, undefined, auth, insecure);
}

async function login(email: string): Promise<{ access_token: string; refresh_token: string }> {
  await server.request('POST', '/api/register', { body: { email, password: 'correct horse battery' } });
  const res = await server.request('POST', '/api/login', {
    body: { email, password: 'correct horse battery' },
  });
  expect(res.status).toBe(200);
  return res.body;
}

async function verifyWithJose(token: string, audience: string) {
  const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  return jwtVerify(token, jwks, { issuer: server.url, audience, typ: 'at+jwt' });
}

describe('openid-client 6 against Jot', () => {
  it('discovers the RFC 8414 metadata', async () => {
    const config = await discover('jot', oidc.None());
    const metadata = config.serverMetadata();
    expect(metadata).toMatchObject({
      issuer: server.url,
      token_endpoint: `${server.url}/oauth/token`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      response_types_supported: [],
    });
    expect(metadata.grant_types_supported).toContain(EXCHANGE);
    expect(metadata.scopes_supported).toEqual(['admin', 'orders:read', 'orders:write', 'profile']);
    // Jot is not an OpenID Provider, so OIDC discovery finds nothing rather than a misleading document.
    await expect(
      oidc.discovery(new URL(server.url), 'jot', undefined, oidc.None(), {
        execute: [oidc.allowInsecureRequests],
      }),
    ).rejects.toThrow();
  });

  it('refreshes as the first-party public client, with rotation and reuse detection', async () => {
    const tokens = await login('refresh@example.com');
    const config = await discover('jot', oidc.None());
    const next = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    expect(next.token_type).toBe('bearer');
    expect(next.refresh_token).toBeDefined();
    expect(next.refresh_token).not.toBe(tokens.refresh_token);
    expect(next.scope).toBe('orders:read orders:write profile');
    const { payload } = await verifyWithJose(next.access_token, server.url);
    expect(payload).toMatchObject({ client_id: 'jot', scope: 'orders:read orders:write profile' });
    // The rotated token again within the grace window (two tabs at once) gets the same successor…
    const again = await oidc.refreshTokenGrant(config, tokens.refresh_token);
    expect(again.refresh_token).toBe(next.refresh_token);
    // …and a narrower scope for one access token (RFC 6749 §6).
    const narrow = await oidc.refreshTokenGrant(config, next.refresh_token!, { scope: 'profile' });
    expect(narrow.scope).toBe('profile');
    const wider = oidc.refreshTokenGrant(config, narrow.refresh_token!, { scope: 'profile admin' });
    await expect(wider).rejects.toMatchObject({ error: 'invalid_scope', status: 400 });
  });

  it('gets client-credentials tokens with private_key_jwt', async () => {
    const { privateKey, jwk } = await clientKeyPair();
    const { client } = await registerClient(server, admin, {
      client_id: 'billing',
      name: 'Billing service',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
      grant_types: ['client_credentials'],
      scopes: ['orders:read', 'orders:write'],
      audiences: ['https://orders.internal', 'https://ledger.internal'],
    });
    const config = await discover(client.client_id, oidc.PrivateKeyJwt({ key: privateKey, kid: 'k1' }));
    const result = await oidc.clientCredentialsGrant(config, {
      scope: 'orders:read',
      resource: 'https://ledger.internal',
    });
    expect(result).toMatchObject({ token_type: 'bearer', scope: 'orders:read' });
    expect(result.expires_in).toBeGreaterThan(0);
    expect(result.refresh_token).toBeUndefined();
    const { payload } = await verifyWithJose(result.access_token, 'https://ledger.internal');
    expect(payload).toMatchObject({ sub: 'billing', client_id: 'billing', scope: 'orders:read' });
    expect(payload.sid).toBeUndefined();
    // Without resource or scope: the first registered audience and every registered scope.
    const plain = await oidc.clientCredentialsGrant(config);
    expect(plain.scope).toBe('orders:read orders:write');
    expect((await verifyWithJose(plain.access_token, 'https://orders.internal')).payload.aud).toBe(
      'https://orders.internal',
    );
  });

  it('gets client-credentials tokens with client_secret_basic and client_secret_jwt', async () => {
    for (const method of ['client_secret_basic', 'client_secret_jwt'] as const) {
      const { client, client_secret } = await registerClient(server, admin, {
        name: `Reports (${method})`,
        token_endpoint_auth_method: method,
        scopes: ['orders:read'],
        audiences: ['https://orders.internal'],
      });
      expect(client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const auth =
        method === 'client_secret_basic'
          ? oidc.ClientSecretBasic(client_secret)
          : oidc.ClientSecretJwt(client_secret);
      const config = await discover(client.client_id, auth);
      const result = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' });
      expect((await verifyWithJose(result.access_token, 'https://orders.internal')).payload.sub).toBe(
        client.client_id,
      );
      const wrong = await discover(client.client_id, oidc.ClientSecretBasic('x'.repeat(43)));
      // RFC 6749 §5.2: 401 with a challenge for the scheme used, which openid-client surfaces as such.
      const refused = await oidc.clientCredentialsGrant(wrong).catch((err: unknown) => err);
      expect(refused).toBeInstanceOf(oidc.WWWAuthenticateChallengeError);
      expect(refused).toMatchObject({ status: 401, cause: [{ scheme: 'basic' }] });
      expect(await (refused as oidc.WWWAuthenticateChallengeError).response.json()).toMatchObject({
        error: 'invalid_client',
        code: 'ERR_CLIENT_AUTH_FAILED',
      });
    }
  });

  it('exchanges a user token for a narrower one for another service (RFC 8693)', async () => {
    const user = await login('exchange@example.com');
    const { client, client_secret } = await registerClient(server, admin, {
      client_id: 'orders-api',
      name: 'Orders API',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [EXCHANGE],
      scopes: ['orders:read'],
      audiences: ['https://inventory.internal'],
    });
    const config = await discover(client.client_id, oidc.ClientSecretBasic(client_secret));
    const exchanged = await oidc.genericGrantRequest(config, EXCHANGE, {
      subject_token: user.access_token,
      subject_token_type: ACCESS_TOKEN_TYPE,
      audience: 'https://inventory.internal',
    });
    expect(exchanged).toMatchObject({
      token_type: 'bearer',
      issued_token_type: ACCESS_TOKEN_TYPE,
      scope: 'orders:read',
    });
    const { payload } = await verifyWithJose(exchanged.access_token, 'https://inventory.internal');
    const original = (await verifyWithJose(user.access_token, server.url)).payload;
    expect(payload).toMatchObject({
      sub: original.sub,
      sid: original.sid,
      client_id: 'orders-api',
      act: { sub: 'orders-api' },
    });
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(300);
  });

  it('revokes a refresh token, ending the session, and introspects tokens (RFC 7009, RFC 7662)', async () => {
    const user = await login('revoke@example.com');
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'Resource server',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: ['https://orders.internal'],
      introspection: 'any', // it introspects the users' tokens, issued to `jot`
    });
    const rs = await discover(client.client_id, oidc.ClientSecretBasic(client_secret));
    const live = await oidc.tokenIntrospection(rs, user.access_token);
    expect(live).toMatchObject({
      active: true,
      token_type: 'Bearer',
      client_id: 'jot',
      scope: 'orders:read orders:write profile',
    });

    const jot = await discover('jot', oidc.None());
    // A refresh token is introspectable by the client it belongs to, and by no one else.
    expect(await oidc.tokenIntrospection(jot, user.refresh_token)).toMatchObject({
      active: true,
      client_id: 'jot',
      scope: 'orders:read orders:write profile',
    });
    expect(await oidc.tokenIntrospection(rs, user.refresh_token)).toEqual({ active: false });

    await oidc.tokenRevocation(jot, user.refresh_token);
    await expect(oidc.refreshTokenGrant(jot, user.refresh_token)).rejects.toMatchObject({
      error: 'invalid_grant',
      status: 400,
    });
    expect(await oidc.tokenIntrospection(rs, user.access_token)).toEqual({ active: false });
    // Unknown tokens: 200, nothing to do (RFC 7009 §2.2).
    await oidc.tokenRevocation(jot, 'no-such-token');
  });
});

describe('DPoP (RFC 9449) with stock clients', () => {
  it('openid-client binds client-credentials tokens with its DPoP handle, for a client that requires DPoP', async () => {
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'Bound service',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: ['https://orders.internal'],
      dpop: 'required',
    });
    const config = await discover(client.client_id, oidc.ClientSecretBasic(client_secret));
    await expect(oidc.clientCredentialsGrant(config)).rejects.toMatchObject({ error: 'invalid_dpop_proof' });
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const DPoP = oidc.getDPoPHandle(config, keyPair);
    const result = await oidc.clientCredentialsGrant(config, undefined, { DPoP });
    expect(result.token_type).toBe('dpop');
    const { payload } = await verifyWithJose(result.access_token, 'https://orders.internal');
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) });
  });

  it('openid-client refreshes with DPoP, and calls a protected route with the bound token', async () => {
    const tokens = await login('dpop-interop@example.com');
    const config = await discover('jot', oidc.None());
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    const refreshed = await oidc.refreshTokenGrant(config, tokens.refresh_token, undefined, { DPoP });
    expect(refreshed.token_type).toBe('dpop');
    const whoami = new URL(`${server.url}/api/whoami`);
    const res = await oidc.fetchProtectedResource(
      config,
      refreshed.access_token,
      whoami,
      'GET',
      undefined,
      undefined,
      {
        DPoP,
      },
    );
    expect(res.status).toBe(200);
    expect(((await res.json()) as { claims: { cnf: unknown } }).claims.cnf).toBeDefined();
    // The family is bound now: a refresh without the handle is refused.
    await expect(oidc.refreshTokenGrant(config, refreshed.refresh_token!)).rejects.toMatchObject({
      error: 'invalid_dpop_proof',
    });
  });

  it('openid-client exchanges a DPoP-bound user token only with its DPoP handle; the new token is bound to it', async () => {
    const userHandle = oidc.getDPoPHandle(
      await discover('jot', oidc.None()),
      await oidc.randomDPoPKeyPair('ES256'),
    );
    const tokens = await login('dpop-exchange@example.com');
    const user = await oidc.refreshTokenGrant(
      await discover('jot', oidc.None()),
      tokens.refresh_token,
      undefined,
      {
        DPoP: userHandle,
      },
    );
    expect(user.token_type).toBe('dpop');
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'Exchanging service',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [EXCHANGE],
      audiences: ['https://inventory.internal'],
    });
    const config = await discover(client.client_id, oidc.ClientSecretBasic(client_secret));
    const parameters = { subject_token: user.access_token, subject_token_type: ACCESS_TOKEN_TYPE };
    const refused = await oidc.genericGrantRequest(config, EXCHANGE, parameters).catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(oidc.ResponseBodyError);
    expect(refused).toMatchObject({
      status: 400,
      error: 'invalid_request',
      cause: { code: 'ERR_EXCHANGE_DPOP_REQUIRED' },
    });
    const keyPair = await oidc.randomDPoPKeyPair('ES256');
    const exchanged = await oidc.genericGrantRequest(config, EXCHANGE, parameters, {
      DPoP: oidc.getDPoPHandle(config, keyPair),
    });
    expect(exchanged).toMatchObject({ token_type: 'dpop', issued_token_type: ACCESS_TOKEN_TYPE });
    const { payload } = await verifyWithJose(exchanged.access_token, 'https://inventory.internal');
    expect(payload).toMatchObject({
      act: { sub: client.client_id },
      cnf: { jkt: await calculateJwkThumbprint(await exportJWK(keyPair.publicKey)) },
    });
  });

  it('accepts a proof made by jose', async () => {
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'jose prover',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: ['https://orders.internal'],
    });
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    const jwk = await exportJWK(publicKey);
    const proof = await new SignJWT({
      htm: 'POST',
      htu: `${server.url}/oauth/token`,
      jti: crypto.randomUUID(),
    })
      .setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk })
      .setIssuedAt()
      .sign(privateKey);
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      {
        authorization: `Basic ${Buffer.from(`${client.client_id}:${client_secret!}`).toString('base64')}`,
        dpop: proof,
      },
    );
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    const { payload } = await verifyWithJose(res.body.access_token, 'https://orders.internal');
    expect(payload.cnf).toEqual({ jkt: await calculateJwkThumbprint(jwk) });
  });
});
