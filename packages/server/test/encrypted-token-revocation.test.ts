/**
 * Regression (walkthrough 2026-12-02): `/oauth/revoke` of a client's own encrypted (JWE) access token, when the server
 * holds only the audience's public key, answered 200 and revoked nothing — the token stayed valid. RFC 7009 §2.2: 200
 * means revoked or invalid; §2.2.1 `unsupported_token_type` is for a token the server cannot revoke. Driven by
 * openid-client's revocation call; `jose` (the audience's private key) proves the token is still good.
 *
 * Review finding (2026-12-02): the 400 was given to any five-part string whose header merely named the public-only
 * key (`alg`, `kid`, `cty`), so a forged or malformed string got 400 where §2.2 says an invalid token gets 200. The
 * 400 now needs a token that passes every check `@jot/jose` makes before decrypting (`checkCompactJWE`) for that
 * key; anything else is 200.
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

import { DEFAULT_MAX_JWE_LENGTH, type JWK } from '@jot/jose';

import { createTokenSealer } from '../src/services/token-encryption.js';
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
    // Above the JWE size cap, so that an oversized token reaches /oauth/revoke instead of a 413.
    bodyLimit: '64kb',
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

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

/** The protected header of a compact JWE. */
function headerOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString('utf8')) as Record<
    string,
    unknown
  >;
}

/** `token` with its protected header replaced (the other four parts kept). */
function withHeader(token: string, header: Record<string, unknown>): string {
  return [b64(JSON.stringify(header)), ...token.split('.').slice(1)].join('.');
}

/**
 * Five-part strings that name the public-only key in their header (alg, kid, cty as a genuine token has them) but
 * are not tokens anyone could have sealed: each must be told 200, an invalid token (RFC 7009 §2.2).
 */
function forgeries(genuine: string): Record<string, string> {
  const header = headerOf(genuine);
  const [, encryptedKey, iv, ciphertext, tag] = genuine.split('.') as [
    string,
    string,
    string,
    string,
    string,
  ];
  const epk = header.epk as Record<string, string>;
  return {
    'garbage parts after the header': `${b64(JSON.stringify(header))}.x.x.x.x`,
    'empty parts after the header': `${b64(JSON.stringify(header))}....`,
    'a short iv': [b64(JSON.stringify(header)), encryptedKey, iv.slice(0, 8), ciphertext, tag].join('.'),
    'a short wrapped key': [b64(JSON.stringify(header)), encryptedKey.slice(0, 20), iv, ciphertext, tag].join(
      '.',
    ),
    'a non-canonical header (padded)': `${genuine.split('.')[0]!}==.${genuine.split('.').slice(1).join('.')}`,
    'a header that is not JSON': ['eyJhbGciOi', encryptedKey, iv, ciphertext, tag].join('.'),
    'another enc': withHeader(genuine, { ...header, enc: 'A128GCM' }),
    'no enc': withHeader(genuine, { alg: header.alg, cty: 'JWT', kid: header.kid, epk }),
    'a zip': withHeader(genuine, { ...header, zip: 'DEF' }),
    'a crit': withHeader(genuine, { ...header, crit: ['exp'], exp: 1 }),
    'PBES2 parameters': withHeader(genuine, { ...header, p2c: 1_000_000, p2s: 'AAAAAAAAAAA' }),
    'no epk': withHeader(genuine, { alg: header.alg, enc: header.enc, cty: 'JWT', kid: header.kid }),
    'an epk off the curve': withHeader(genuine, { ...header, epk: { ...epk, y: epk.x } }),
    'an epk on another curve': withHeader(genuine, { ...header, epk: { ...epk, crv: 'P-384' } }),
  };
}

/** The same header with an `alg` the public-only key does not have (nor any key the server holds). */
function otherAlgorithms(genuine: string): Record<string, string> {
  const header = headerOf(genuine);
  return Object.fromEntries(
    ['RSA-OAEP-256', 'ECDH-ES', 'A256KW', 'dir', 'RSA1_5', 'PBES2-HS256+A128KW', 'none'].map((alg) => [
      alg,
      withHeader(genuine, { ...header, alg }),
    ]),
  );
}

/** `genuine` with its ciphertext lengthened (still canonical base64url) past the JWE size cap. */
function oversized(genuine: string): string {
  const parts = genuine.split('.');
  const grow = DEFAULT_MAX_JWE_LENGTH - genuine.length + 4;
  parts[3] = `${parts[3]!}${'A'.repeat(grow + ((4 - (grow % 4)) % 4))}`;
  return parts.join('.');
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

  /** The status /oauth/revoke answers each of `tokens`, by name. */
  async function statuses(tokens: Record<string, string>): Promise<Record<string, number>> {
    const answers: Record<string, number> = {};
    for (const [name, token] of Object.entries(tokens)) {
      answers[name] = (await postForm(server, '/oauth/revoke', { token }, { authorization: basic })).status;
    }
    return answers;
  }

  it('answers 200 to forged five-part strings whose header merely names the public-only key', async () => {
    const { access_token: genuine } = await oidc.clientCredentialsGrant(config);
    const forged = forgeries(genuine);
    expect(await statuses(forged)).toEqual(
      Object.fromEntries(Object.keys(forged).map((name) => [name, 200])),
    );
    // The genuine token beside them is still refused as undecryptable.
    expect((await statuses({ genuine })).genuine).toBe(400);
  });

  it('answers 200 when the header names the public-only kid with an algorithm that key does not have', async () => {
    const { access_token: genuine } = await oidc.clientCredentialsGrant(config);
    const tokens = otherAlgorithms(genuine);
    expect(await statuses(tokens)).toEqual(
      Object.fromEntries(Object.keys(tokens).map((name) => [name, 200])),
    );
  });

  it('answers 200 to an otherwise genuine-looking token longer than the JWE size cap', async () => {
    const { access_token: genuine } = await oidc.clientCredentialsGrant(config);
    const long = oversized(genuine);
    expect(long.length).toBeGreaterThan(DEFAULT_MAX_JWE_LENGTH);
    expect(await statuses({ long, genuine })).toEqual({ long: 200, genuine: 400 });
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

describe('sealedForOthers', () => {
  const ORDERS_KID = 'orders-enc-3';
  const INNER = `${b64('{"alg":"ES256","typ":"at+jwt"}')}.e30.c2ln`;
  const sealer = (async () => {
    const orders = await encryptionKey(ORDERS_KID);
    const own = await encryptionKey('own-enc-3');
    return {
      // ORDERS held as public only; the server's own audience with its private key (same algorithm).
      tokens: createTokenSealer({
        [ORDERS]: orders.publicJwk as JWK,
        'https://own.internal': own.privateJwk as JWK,
      }),
    };
  })();
  async function sealFor(aud: string): Promise<string> {
    const { tokens } = await sealer;
    return (await tokens.seal({ token: INNER, claims: { aud } })).token;
  }

  it('is true only for a token that passes every pre-decryption check for a public-only key', async () => {
    const { tokens } = await sealer;
    const genuine = await sealFor(ORDERS);
    expect(headerOf(genuine).kid).toBe(ORDERS_KID);
    expect(tokens.sealedForOthers(genuine)).toBe(true);
    // One the server can open itself is not sealed for others.
    const own = await sealFor('https://own.internal');
    expect(tokens.sealedForOthers(own)).toBe(false);
    await expect(tokens.open(own)).resolves.toBe(INNER);
    const { kid: _kid, ...kidless } = headerOf(genuine);
    const refused = {
      ...forgeries(genuine),
      ...otherAlgorithms(genuine),
      oversized: oversized(genuine),
      'no kid': withHeader(genuine, kidless),
      'another kid': withHeader(genuine, { ...headerOf(genuine), kid: 'own-enc-3' }),
      'a JWS': INNER,
      'six parts': `${genuine}.x`,
    };
    const answers = Object.fromEntries(
      Object.entries(refused).map(([name, token]) => [name, tokens.sealedForOthers(token)]),
    );
    expect(answers).toEqual(Object.fromEntries(Object.keys(refused).map((name) => [name, false])));
  });

  it('is false for everything when no key is held as public only', async () => {
    const own = await encryptionKey('own-enc-4');
    const tokens = createTokenSealer({ [ORDERS]: own.privateJwk as JWK });
    const sealed = (await tokens.seal({ token: 'a.b.c', claims: { aud: ORDERS } })).token;
    expect(tokens.sealedForOthers(sealed)).toBe(false);
  });
});
