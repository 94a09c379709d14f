/**
 * DPoP (RFC 9449) at `POST /oauth/token`: a proof binds the client-credentials or exchanged token (`cnf.jkt`,
 * `token_type: DPoP`) and the refresh-token family; a bound family refreshes only with a proof from its key, and an
 * unbound one refreshed with a proof becomes bound; a bound subject token is exchanged only with a proof; every refusal is a 400 `invalid_dpop_proof` (or
 * `use_dpop_nonce` with a `DPoP-Nonce` header); a proof is accepted once across instances. Also: tokens issued here
 * for an audience with a registered encryption key are encrypted, and `jose` opens them.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { compactDecrypt, createLocalJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, decodeUnverified, generateKeyPair, type Key } from '@jot/jose';

import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { adminToken, freePort, postForm, registerClient, startIssuer } from './support/oauth.js';
import { keyPair } from '../../../test-support/key-pair.js';

const PASSWORD = 'correct horse battery';
const ORDERS = 'https://orders.internal';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

/** A proof for `POST /oauth/token` of `server`, made with `key` (changes applied). */
function tokenProof(server: TestServer, key: Key, change: Record<string, unknown> = {}): string {
  return createDPoPProof(key, { htm: 'POST', htu: `${server.url}/oauth/token`, ...change });
}

const subOf = (login: TestResponse): unknown => decodeUnverified(login.body.access_token).payload.sub;

function refusal(res: TestResponse) {
  return { status: res.status, error: res.body.error, code: res.body.code };
}

async function signIn(server: TestServer, email: string, proofKey?: Key): Promise<TestResponse> {
  const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  expect([201, 409]).toContain(reg.status);
  const headers: Record<string, string> =
    proofKey === undefined
      ? {}
      : { dpop: createDPoPProof(proofKey, { htm: 'POST', htu: `${server.url}/api/login` }) };
  const login = await server.request('POST', '/api/login', { body: { email, password: PASSWORD }, headers });
  expect(login.status).toBe(200);
  return login;
}

describe('DPoP at /oauth/token', () => {
  let server: TestServer;
  let admin: string;
  let service: Record<string, string>;

  beforeAll(async () => {
    server = await startIssuer({ roleScopes: '*=profile orders:read' });
    admin = await adminToken(server);
    const { client, client_secret } = await registerClient(server, admin, {
      client_id: 'billing',
      name: 'Billing',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', EXCHANGE],
      scopes: ['orders:read'],
      audiences: [ORDERS],
    });
    service = basic(client.client_id, client_secret!);
  });
  afterAll(() => server?.close());

  const clientCredentials = (headers: Record<string, string> = {}) =>
    postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, { ...service, ...headers });

  it('binds a client-credentials token to the proof key; introspection shows cnf and token_type DPoP', async () => {
    const key = generateKeyPair('ES256');
    const res = await clientCredentials({ dpop: tokenProof(server, key) });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    expect(decodeUnverified(res.body.access_token).payload).toMatchObject({
      sub: 'billing',
      cnf: { jkt: key.thumbprint() },
    });
    const introspected = await postForm(
      server,
      '/oauth/introspect',
      { token: res.body.access_token },
      service,
    );
    expect(introspected.body).toMatchObject({
      active: true,
      token_type: 'DPoP',
      cnf: { jkt: key.thumbprint() },
    });
    // Without a proof the same client still gets a Bearer token (the policy is optional by default).
    const plain = await clientCredentials();
    expect(plain.body.token_type).toBe('Bearer');
    expect(decodeUnverified(plain.body.access_token).payload.cnf).toBeUndefined();
  });

  it.each([
    ['a replayed proof', 'ERR_DPOP_PROOF_REPLAYED', 'replay'],
    ['a proof for another URL', 'ERR_DPOP_PROOF_INVALID', { htu: 'http://127.0.0.1:1/oauth/token' }],
    ['a proof for another method', 'ERR_DPOP_PROOF_INVALID', { htm: 'GET' }],
    ['a stale proof', 'ERR_DPOP_PROOF_INVALID', { iat: Math.floor(Date.now() / 1000) - 600 }],
    ['a proof from the future', 'ERR_DPOP_PROOF_INVALID', { iat: Math.floor(Date.now() / 1000) + 600 }],
    ['a malformed proof', 'ERR_DPOP_PROOF_INVALID', 'garbage'],
  ] as const)('refuses %s with 400 invalid_dpop_proof', async (_name, code, change) => {
    const key = generateKeyPair('ES256');
    let proof: string;
    if (change === 'replay') {
      proof = tokenProof(server, key);
      expect((await clientCredentials({ dpop: proof })).status).toBe(200);
    } else if (change === 'garbage') {
      proof = 'not.a.proof';
    } else {
      proof = tokenProof(server, key, change);
    }
    const res = await clientCredentials({ dpop: proof });
    expect(refusal(res)).toEqual({ status: 400, error: 'invalid_dpop_proof', code });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('binds an exchanged token to the acting service’s key', async () => {
    const user = await signIn(server, 'exchange@example.com');
    const key = generateKeyPair('ES256');
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: EXCHANGE, subject_token: user.body.access_token, subject_token_type: AT },
      { ...service, dpop: tokenProof(server, key) },
    );
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'DPoP', issued_token_type: AT });
    expect(decodeUnverified(res.body.access_token).payload).toMatchObject({
      sub: subOf(user),
      act: { sub: 'billing' },
      cnf: { jkt: key.thumbprint() },
    });
  });

  it('exchanges a DPoP-bound user token only with a proof, and binds the new token to the acting service’s key', async () => {
    const userKey = generateKeyPair('ES256');
    const user = await signIn(server, 'bound-subject@example.com', userKey);
    expect(decodeUnverified(user.body.access_token).payload.cnf).toEqual({ jkt: userKey.thumbprint() });
    const exchange = (subject: string, headers: Record<string, string> = {}) =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: EXCHANGE, subject_token: subject, subject_token_type: AT },
        { ...service, ...headers },
      );
    // Without a proof the binding would be shed: a stolen bound token would come out as a bearer token.
    const laundered = await exchange(user.body.access_token);
    expect(refusal(laundered)).toEqual({
      status: 400,
      error: 'invalid_request',
      code: 'ERR_EXCHANGE_DPOP_REQUIRED',
    });
    expect(laundered.body.error_description).toMatch(/send a DPoP proof/);
    expect(laundered.body.access_token).toBeUndefined();
    // A proof that does not verify is refused as any other; the binding rule does not weaken the proof check.
    const stale = await exchange(user.body.access_token, {
      dpop: tokenProof(server, generateKeyPair('ES256'), { htm: 'GET' }),
    });
    expect(refusal(stale)).toMatchObject({ status: 400, error: 'invalid_dpop_proof' });

    const serviceKey = generateKeyPair('ES256');
    const bound = await exchange(user.body.access_token, { dpop: tokenProof(server, serviceKey) });
    expect(bound.status).toBe(200);
    expect(bound.body).toMatchObject({ token_type: 'DPoP', issued_token_type: AT });
    expect(decodeUnverified(bound.body.access_token).payload).toMatchObject({
      sub: subOf(user),
      act: { sub: 'billing' },
      cnf: { jkt: serviceKey.thumbprint() },
    });
    // The exchanged token is bound in turn: exchanging it again (delegation chain) needs a proof too.
    expect(refusal(await exchange(bound.body.access_token))).toMatchObject({
      code: 'ERR_EXCHANGE_DPOP_REQUIRED',
    });
    const chained = await exchange(bound.body.access_token, { dpop: tokenProof(server, serviceKey) });
    expect(chained.status).toBe(200);
    expect(decodeUnverified(chained.body.access_token).payload).toMatchObject({
      act: { sub: 'billing', act: { sub: 'billing' } },
      cnf: { jkt: serviceKey.thumbprint() },
    });
    // An unbound subject token still exchanges without a proof, for a bearer token.
    const plainUser = await signIn(server, 'plain-subject@example.com');
    const plain = await exchange(plainUser.body.access_token);
    expect(plain.status).toBe(200);
    expect(plain.body.token_type).toBe('Bearer');
    expect(decodeUnverified(plain.body.access_token).payload.cnf).toBeUndefined();
  });

  it('per-client policy: a required client gets nothing without a proof; admins change it; discovery lists the algorithms', async () => {
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'Strict',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: [ORDERS],
      dpop_bound_access_tokens: true,
    });
    expect(client).toMatchObject({ dpop: 'required', dpop_bound_access_tokens: true });
    const headers = basic(client.client_id, client_secret!);
    const cc = (extra: Record<string, string> = {}) =>
      postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, { ...headers, ...extra });
    expect(refusal(await cc())).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
      code: 'ERR_DPOP_REQUIRED',
    });
    const key = generateKeyPair('ES256');
    const bound = await cc({ dpop: tokenProof(server, key) });
    expect(bound.status).toBe(200);
    expect(bound.body.token_type).toBe('DPoP');

    const path = `/api/admin/clients/${client.client_id}`;
    const relaxed = await server.request('PATCH', path, { token: admin, body: { dpop: 'optional' } });
    expect(relaxed.status).toBe(200);
    expect(relaxed.body).toMatchObject({ dpop: 'optional', dpop_bound_access_tokens: false });
    expect((await cc()).body.token_type).toBe('Bearer');
    for (const body of [{}, { dpop: 'always' }, { dpop: 'required', dpop_bound_access_tokens: false }]) {
      const res = await server.request('PATCH', path, { token: admin, body });
      expect({ body, status: res.status }).toEqual({ body, status: 400 });
    }
    const mixed = await server.request('PATCH', path, {
      token: admin,
      body: { dpop: 'required', dpop_bound_access_tokens: false },
    });
    expect(mixed.body.code).toBe('ERR_CLIENT_INVALID');
    const firstParty = await server.request('PATCH', '/api/admin/clients/jot', {
      token: admin,
      body: { dpop: 'required' },
    });
    expect(firstParty.body).toMatchObject({ code: 'ERR_CLIENT_INVALID' });
    expect(
      (await server.request('PATCH', '/api/admin/clients/nope', { token: admin, body: { dpop: 'required' } }))
        .status,
    ).toBe(404);
    const events = await server.request('GET', '/api/admin/events?limit=500', { token: admin });
    const updates = (events.body.events as { type: string; detail: unknown }[]).filter(
      (e) => e.type === 'client_updated',
    );
    expect(updates.map((e) => e.detail)).toContainEqual({ client_id: client.client_id, dpop: 'optional' });

    const metadata = await server.request('GET', '/.well-known/oauth-authorization-server');
    expect(metadata.body.dpop_signing_alg_values_supported).toEqual(
      expect.arrayContaining(['ES256', 'EdDSA', 'RS256']),
    );
  });

  describe('refresh_token grant (the first-party client)', () => {
    const refresh = (token: string, headers: Record<string, string> = {}) =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: token, client_id: 'jot' },
        headers,
      );

    it('a family bound at sign-in refreshes only with a proof from its key; a refusal spends nothing', async () => {
      const key = generateKeyPair('ES256');
      const login = await signIn(server, 'bound@example.com', key);
      const token = login.body.refresh_token as string;
      expect(refusal(await refresh(token))).toEqual({
        status: 400,
        error: 'invalid_dpop_proof',
        code: 'ERR_DPOP_REQUIRED',
      });
      const thief = await refresh(token, { dpop: tokenProof(server, generateKeyPair('ES256')) });
      expect(refusal(thief)).toEqual({
        status: 400,
        error: 'invalid_dpop_proof',
        code: 'ERR_DPOP_KEY_MISMATCH',
      });
      const ok = await refresh(token, { dpop: tokenProof(server, key) });
      expect(ok.status).toBe(200);
      expect(ok.body.token_type).toBe('DPoP');
      expect(decodeUnverified(ok.body.access_token).payload.cnf).toEqual({ jkt: key.thumbprint() });
      const next = await refresh(ok.body.refresh_token, { dpop: tokenProof(server, key) });
      expect(next.status).toBe(200);
    });

    it('binds an unbound family to the key of the first refresh with a proof', async () => {
      const login = await signIn(server, 'unbound@example.com');
      expect(login.body.token_type).toBe('Bearer');
      const key = generateKeyPair('ES256');
      const bound = await refresh(login.body.refresh_token, { dpop: tokenProof(server, key) });
      expect(bound.status).toBe(200);
      expect(bound.body.token_type).toBe('DPoP');
      expect(decodeUnverified(bound.body.access_token).payload.cnf).toEqual({ jkt: key.thumbprint() });
      // From now on the family is the key's: no proof, or another key's, is refused.
      expect(refusal(await refresh(bound.body.refresh_token))).toMatchObject({ code: 'ERR_DPOP_REQUIRED' });
      const other = await refresh(bound.body.refresh_token, {
        dpop: tokenProof(server, generateKeyPair('ES256')),
      });
      expect(other.body.code).toBe('ERR_DPOP_KEY_MISMATCH');
      expect((await refresh(bound.body.refresh_token, { dpop: tokenProof(server, key) })).status).toBe(200);
    });

    it('still detects reuse when a thief bound a stolen family to their own key', async () => {
      const grace = await startIssuer({ refreshGraceWindow: '0s' });
      try {
        const login = await signIn(grace, 'victim@example.com');
        const stolen = login.body.refresh_token as string;
        const thiefKey = generateKeyPair('ES256');
        const byThief = await postForm(
          grace,
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: stolen, client_id: 'jot' },
          { dpop: tokenProof(grace, thiefKey) },
        );
        expect(byThief.status).toBe(200);
        // The victim presents the token the thief already rotated, without a proof: reuse, and the session ends.
        const byVictim = await postForm(grace, '/oauth/token', {
          grant_type: 'refresh_token',
          refresh_token: stolen,
          client_id: 'jot',
        });
        expect(refusal(byVictim)).toEqual({
          status: 400,
          error: 'invalid_grant',
          code: 'ERR_REFRESH_TOKEN_REUSED',
        });
        const thiefAgain = await postForm(
          grace,
          '/oauth/token',
          { grant_type: 'refresh_token', refresh_token: byThief.body.refresh_token, client_id: 'jot' },
          { dpop: tokenProof(grace, thiefKey) },
        );
        expect(thiefAgain.body.error).toBe('invalid_grant');
      } finally {
        await grace.close();
      }
    });
  });
});

describe('DPoP nonces and policy at /oauth/token', () => {
  let server: TestServer;
  let headers: Record<string, string>;

  beforeAll(async () => {
    server = await startIssuer({ dpop: 'required', dpopNonce: true });
    // Every sign-in needs a proof and a nonce here; the client is registered in-process.
    const { client, clientSecret } = await server.app.jot.clients.register({
      name: 'Reports',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: [ORDERS],
    });
    headers = basic(client.clientId, clientSecret!);
  });
  afterAll(() => server?.close());

  it('asks for a server nonce (use_dpop_nonce with DPoP-Nonce) and accepts the retry that carries it', async () => {
    const key = generateKeyPair('ES256');
    const first = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { ...headers, dpop: tokenProof(server, key) },
    );
    expect(refusal(first)).toEqual({ status: 400, error: 'use_dpop_nonce', code: 'ERR_DPOP_NONCE_REQUIRED' });
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toBeTruthy();
    const second = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      { ...headers, dpop: tokenProof(server, key, { nonce: nonce! }) },
    );
    expect(second.status).toBe(200);
    expect(second.body.token_type).toBe('DPoP');
    expect(second.headers.get('dpop-nonce')).toBeTruthy();
  });

  it('JOT_DPOP=required governs the first-party client’s refresh here as at /api/token/refresh', async () => {
    const key = generateKeyPair('ES256');
    const nonceOf = async (): Promise<string> => {
      const probe = await postForm(
        server,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { ...headers, dpop: tokenProof(server, key) },
      );
      return probe.headers.get('dpop-nonce')!;
    };
    await server.request('POST', '/api/register', { body: { email: 'req@example.com', password: PASSWORD } });
    const login = await server.request('POST', '/api/login', {
      body: { email: 'req@example.com', password: PASSWORD },
      headers: {
        dpop: createDPoPProof(key, { htm: 'POST', htu: `${server.url}/api/login`, nonce: await nonceOf() }),
      },
    });
    expect(login.status).toBe(200);
    const form = { grant_type: 'refresh_token', refresh_token: login.body.refresh_token, client_id: 'jot' };
    expect(refusal(await postForm(server, '/oauth/token', form))).toEqual({
      status: 400,
      error: 'invalid_dpop_proof',
      code: 'ERR_DPOP_REQUIRED',
    });
    const ok = await postForm(server, '/oauth/token', form, {
      dpop: tokenProof(server, key, { nonce: await nonceOf() }),
    });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
  });
});

describe('DPoP proofs at /oauth/token across instances', () => {
  it('accepts one proof once when two instances share the database', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const dataDir = mkdtempSync(join(tmpdir(), 'jot-oauth-dpop-'));
    const a = await startServer({ port, issuer }, { dataDir });
    const b = await startServer({ issuer, externalUrl: a.url }, { dataDir, store: a.app.jot.store });
    try {
      const admin = await adminToken(a);
      const { client, client_secret } = await registerClient(a, admin, {
        name: 'Twice',
        token_endpoint_auth_method: 'client_secret_basic',
        audiences: [ORDERS],
      });
      const proof = tokenProof(a, generateKeyPair('ES256'));
      const results = await Promise.all(
        [a, b, a, b].map((s) =>
          postForm(
            s,
            '/oauth/token',
            { grant_type: 'client_credentials' },
            { ...basic(client.client_id, client_secret!), dpop: proof },
          ),
        ),
      );
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.body.code === 'ERR_DPOP_PROOF_REPLAYED')).toHaveLength(3);
    } finally {
      await b.app.close();
      await a.close();
    }
  });
});

describe('encrypted tokens from /oauth/token', () => {
  const { privateKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
  const ordersKey = { ...privateKey.export({ format: 'jwk' }), alg: 'ECDH-ES+A256KW', kid: 'orders-enc-1' };
  let server: TestServer;
  let headers: Record<string, string>;

  beforeAll(async () => {
    server = await startIssuer({ encryptionKeys: JSON.stringify({ [ORDERS]: ordersKey }) });
    const admin = await adminToken(server);
    const { client, client_secret } = await registerClient(server, admin, {
      client_id: 'gateway',
      name: 'Gateway',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', EXCHANGE],
      audiences: [ORDERS, 'https://plain.internal'],
    });
    headers = basic(client.client_id, client_secret!);
  });
  afterAll(() => server?.close());

  /** jose opens the JWE with the audience's key and verifies the inner JWS against the server's JWKS. */
  async function openWithJose(token: string): Promise<Record<string, unknown>> {
    expect(token.split('.')).toHaveLength(5);
    const { plaintext, protectedHeader } = await compactDecrypt(token, ordersKey, {
      keyManagementAlgorithms: ['ECDH-ES+A256KW'],
      contentEncryptionAlgorithms: ['A256GCM'],
    });
    expect(protectedHeader).toMatchObject({
      alg: 'ECDH-ES+A256KW',
      enc: 'A256GCM',
      cty: 'JWT',
      kid: 'orders-enc-1',
    });
    const jwks = (await server.request('GET', '/.well-known/jwks.json')).body;
    const { payload, protectedHeader: inner } = await jwtVerify(
      new TextDecoder().decode(plaintext),
      createLocalJWKSet(jwks),
      {
        issuer: server.url,
        audience: ORDERS,
        typ: 'at+jwt',
      },
    );
    expect(inner.typ).toBe('at+jwt');
    return payload;
  }

  it('encrypts a client-credentials token (DPoP-bound too) to the audience’s key; others stay signed only', async () => {
    const key = generateKeyPair('ES256');
    const res = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: ORDERS },
      { ...headers, dpop: tokenProof(server, key) },
    );
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('DPoP');
    const claims = await openWithJose(res.body.access_token);
    expect(claims).toMatchObject({ sub: 'gateway', client_id: 'gateway', cnf: { jkt: key.thumbprint() } });
    const plain = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials', resource: 'https://plain.internal' },
      headers,
    );
    expect(plain.body.access_token.split('.')).toHaveLength(3);
  });

  it('encrypts an exchanged token, and introspection and revocation read it', async () => {
    const user = await signIn(server, 'enc-user@example.com');
    const res = await postForm(
      server,
      '/oauth/token',
      {
        grant_type: EXCHANGE,
        subject_token: user.body.access_token,
        subject_token_type: AT,
        audience: ORDERS,
      },
      headers,
    );
    expect(res.status).toBe(200);
    const token = res.body.access_token as string;
    expect(await openWithJose(token)).toMatchObject({ sub: subOf(user), act: { sub: 'gateway' } });
    const introspect = () => postForm(server, '/oauth/introspect', { token }, headers);
    expect((await introspect()).body).toMatchObject({ active: true, sub: subOf(user), aud: ORDERS });
    expect((await postForm(server, '/oauth/revoke', { token }, headers)).status).toBe(200);
    expect((await introspect()).body).toEqual({ active: false });
  });
});
