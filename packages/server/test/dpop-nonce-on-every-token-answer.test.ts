/**
 * Regression (walkthrough 2026-12-02): with `JOT_DPOP_NONCE=true`, docs/dpop.md says every answer of `/oauth/token`
 * carries the current nonce, but 400 `invalid_scope` and 401 `invalid_client` answers carried no `DPoP-Nonce`. RFC
 * 9449 §8.2 lets the server supply a nonce in any response; now every token-endpoint answer does, and the nonce it
 * carries is one the next proof may use. openid-client's DPoP handle, which remembers `DPoP-Nonce` from any answer,
 * proves it: after a refused request it needs no `use_dpop_nonce` round trip.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, generateKeyPair } from '@jot/jose';

import type { TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const ORDERS = 'https://orders.internal';

let server: TestServer;
let clientId: string;
let secret: string;

beforeAll(async () => {
  server = await startIssuer({ dpopNonce: true });
  const admin = await adminToken(server);
  const { client, client_secret } = await registerClient(server, admin, {
    name: 'Nonce reader',
    token_endpoint_auth_method: 'client_secret_basic',
    scopes: ['orders:read'],
    audiences: [ORDERS],
  });
  clientId = client.client_id;
  secret = client_secret!;
});
afterAll(() => server?.close());

const basic = (id: string, key: string): Record<string, string> => ({
  authorization: `Basic ${Buffer.from(`${id}:${key}`).toString('base64')}`,
});

describe('/oauth/token with JOT_DPOP_NONCE=true: every answer carries the current nonce', () => {
  it('on 400 invalid_scope, 401 invalid_client, 400 unsupported_grant_type and 400 invalid_request, with or without a proof', async () => {
    const key = generateKeyPair('ES256');
    const proof = (): string => createDPoPProof(key, { htm: 'POST', htu: `${server.url}/oauth/token` });
    const answers = {
      invalid_scope: await postForm(
        server,
        '/oauth/token',
        { grant_type: 'client_credentials', scope: 'nope' },
        { ...basic(clientId, secret), dpop: proof() },
      ),
      invalid_client: await postForm(
        server,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { ...basic(clientId, 'wrong-secret'), dpop: proof() },
      ),
      unsupported_grant_type: await postForm(
        server,
        '/oauth/token',
        { grant_type: 'password' },
        basic(clientId, secret),
      ),
      invalid_request: await postForm(server, '/oauth/token', {}, basic(clientId, secret)),
      bearer: await postForm(
        server,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        basic(clientId, secret),
      ),
    };
    const seen = Object.fromEntries(
      Object.entries(answers).map(([name, res]) => [
        name,
        {
          status: res.status,
          error: res.body.error ?? res.body.token_type,
          nonce: res.headers.get('dpop-nonce') !== null,
        },
      ]),
    );
    expect(seen).toEqual({
      invalid_scope: { status: 400, error: 'invalid_scope', nonce: true },
      invalid_client: { status: 401, error: 'invalid_client', nonce: true },
      unsupported_grant_type: { status: 400, error: 'unsupported_grant_type', nonce: true },
      invalid_request: { status: 400, error: 'invalid_request', nonce: true },
      bearer: { status: 200, error: 'Bearer', nonce: true },
    });
    // The nonce an error carried is a current one: a proof with it is accepted at once.
    const nonce = answers.invalid_client.headers.get('dpop-nonce')!;
    const ok = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      {
        ...basic(clientId, secret),
        dpop: createDPoPProof(key, { htm: 'POST', htu: `${server.url}/oauth/token`, nonce }),
      },
    );
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
  });

  it('openid-client learns the nonce from a refused request and needs no use_dpop_nonce round trip after it', async () => {
    const sent: string[] = [];
    const config = await oidc.discovery(
      new URL(server.url),
      clientId,
      undefined,
      oidc.ClientSecretBasic(secret),
      {
        execute: [oidc.allowInsecureRequests],
        algorithm: 'oauth2',
      },
    );
    config[oidc.customFetch] = async (url, options) => {
      const res = await fetch(url, options as RequestInit);
      if (url.endsWith('/oauth/token')) sent.push(`${res.status}`);
      return res;
    };
    const DPoP = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
    await expect(oidc.clientCredentialsGrant(config, { scope: 'nope' }, { DPoP })).rejects.toMatchObject({
      error: 'invalid_scope',
      status: 400,
    });
    const result = await oidc.clientCredentialsGrant(config, { scope: 'orders:read' }, { DPoP });
    expect(result.token_type).toBe('dpop');
    // One refused request, then one accepted: the nonce came with the refusal.
    expect(sent).toEqual(['400', '200']);
  });
});
