/**
 * Regression (walkthrough 2026-12-02): `/oauth/revoke` of a client's own encrypted (JWE) access token, when the server
 * holds only the audience's public key, answered 200 and revoked nothing — the token stayed valid. RFC 7009 §2.2: 200
 * means revoked or invalid; §2.2.1 `unsupported_token_type` is for a token the server cannot revoke. Driven by
 * openid-client's revocation call; `jose` (the audience's private key) proves the token is still good.
 */
import {
  CompactEncrypt,
  compactDecrypt,
  createRemoteJWKSet,
  exportJWK,
  generateKeyPair,
  jwtVerify,
} from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const ORDERS = 'https://orders.internal';
const FEED_SECRET = 'feed-secret-for-the-encrypted-revocation-test-0123456789';
const insecure = { execute: [oidc.allowInsecureRequests], algorithm: 'oauth2' as const };

async function encryptionKey(kid: string): Promise<{ privateJwk: JsonWebKey; publicJwk: JsonWebKey }> {
  const { privateKey, publicKey } = await generateKeyPair('ECDH-ES+A256KW', { extractable: true });
  const extra = { kid, alg: 'ECDH-ES+A256KW', use: 'enc' };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...extra },
    publicJwk: { ...(await exportJWK(publicKey)), ...extra },
  };
}

/** A server encrypting tokens for ORDERS to `jwk`, and a client_secret_basic client of that audience. */
async function setUp(
  jwk: JsonWebKey,
): Promise<{ server: TestServer; config: oidc.Configuration; basic: string }> {
  const server = await startIssuer({
    encryptionKeys: JSON.stringify({ [ORDERS]: jwk }),
    revocationSecret: FEED_SECRET,
  });
  const admin = await adminToken(server);
  const { client, client_secret } = await registerClient(server, admin, {
    name: 'Orders caller',
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    audiences: [ORDERS],
  });
  const config = await oidc.discovery(
    new URL(server.url),
    client.client_id,
    undefined,
    oidc.ClientSecretBasic(client_secret),
    insecure,
  );
  const basic = `Basic ${Buffer.from(`${client.client_id}:${client_secret!}`).toString('base64')}`;
  return { server, config, basic };
}

/** The token's inner JWS verified against the issuer's JWKS, after decrypting with the audience's private key. */
async function stillValid(server: TestServer, token: string, privateJwk: JsonWebKey): Promise<string> {
  const { plaintext } = await compactDecrypt(token, privateJwk);
  const jwks = createRemoteJWKSet(new URL(`${server.url}/.well-known/jwks.json`));
  const { payload } = await jwtVerify(new TextDecoder().decode(plaintext), jwks, {
    issuer: server.url,
    audience: ORDERS,
    typ: 'at+jwt',
  });
  return payload.jti!;
}

describe('revoking an encrypted access token the server cannot open', () => {
  let server: TestServer;
  let config: oidc.Configuration;
  let basic: string;
  const keys = encryptionKey('orders-enc-1');

  beforeAll(async () => {
    ({ server, config, basic } = await setUp((await keys).publicJwk));
  });
  afterAll(() => server?.close());

  it('answers 400 unsupported_token_type naming why, never 200, and the token stays valid', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(config);
    expect(token.split('.')).toHaveLength(5);
    const failure = await oidc.tokenRevocation(config, token).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(oidc.ResponseBodyError);
    expect(failure).toMatchObject({ status: 400, error: 'unsupported_token_type' });
    expect((failure as oidc.ResponseBodyError).error_description).toMatch(
      /encrypted to an audience whose private key this server does not hold/,
    );
    const raw = await postForm(server, '/oauth/revoke', { token }, { authorization: basic });
    expect(raw.body).toMatchObject({ error: 'unsupported_token_type', code: 'ERR_TOKEN_NOT_DECRYPTABLE' });
    // Nothing was claimed, and nothing changed: the audience still accepts the token.
    expect(await stillValid(server, token, (await keys).privateJwk)).toMatch(/./);
  });

  it('still answers 200 for a JWE sealed to a key the server does not know (not a token it issued)', async () => {
    const stranger = await encryptionKey('someone-else');
    const jwe = await new CompactEncrypt(new TextEncoder().encode('a.b.c'))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', cty: 'JWT', kid: 'someone-else' })
      .encrypt(stranger.publicJwk);
    await expect(oidc.tokenRevocation(config, jwe)).resolves.toBeUndefined();
    // A JWE naming the configured key's kid but not carrying a JWT (cty) is not recognisably ours either.
    const notJwt = await new CompactEncrypt(new TextEncoder().encode('x'))
      .setProtectedHeader({ alg: 'ECDH-ES+A256KW', enc: 'A256GCM', kid: 'orders-enc-1' })
      .encrypt((await keys).publicJwk);
    await expect(oidc.tokenRevocation(config, notJwt)).resolves.toBeUndefined();
  });
});

describe('revoking an encrypted access token the server holds the private key for', () => {
  let server: TestServer;
  let config: oidc.Configuration;
  const keys = encryptionKey('orders-enc-2');

  beforeAll(async () => {
    ({ server, config } = await setUp((await keys).privateJwk));
  });
  afterAll(() => server?.close());

  it('revokes it (200): its jti is on the revocation list and introspection calls it inactive', async () => {
    const { access_token: token } = await oidc.clientCredentialsGrant(config);
    expect(token.split('.')).toHaveLength(5);
    const jti = await stillValid(server, token, (await keys).privateJwk);
    expect((await oidc.tokenIntrospection(config, token)).active).toBe(true);
    await expect(oidc.tokenRevocation(config, token)).resolves.toBeUndefined();
    expect((await oidc.tokenIntrospection(config, token)).active).toBe(false);
    const feed = await server.request('GET', '/api/revocations', { token: FEED_SECRET });
    expect(JSON.stringify(feed.body)).toContain(jti);
  });
});
