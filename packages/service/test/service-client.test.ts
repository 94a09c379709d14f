/**
 * `@jot/service` against a real Jot server and a real resource server verifying with `@jot/verify`
 * (`profile: 'rfc9068'` and the `clientIds`/`actors` guards): client-credentials tokens with a private key (PEM)
 * or a secret, cached and renewed before expiry, fetched once for concurrent callers; token exchange on a user's
 * behalf; the retry after a 401 `invalid_token`; token-endpoint refusals as `ServiceError`s.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { OAuthTokenResponse } from '@jot/contract';
import { createVerifier, nodeAuth, type Verifier } from '@jot/verify';

import { signUp, type TestServer } from '../../server/test/support/jot-server.js';
import { adminToken, registerClient, startIssuer } from '../../server/test/support/oauth.js';
import { createServiceClient, generateDPoPKey, isServiceError, ServiceError } from '../src/index.js';
import { TokenCache } from '../src/token-cache.js';
import { keyPair } from '../../../test-support/key-pair.js';

const ORDERS = 'https://orders.internal';
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';

let jot: TestServer;
let admin: string;
let privatePem: string;
let orders: { url: string; server: Server; verifier: Verifier; seen: Record<string, unknown>[] };
let tokenRequests = 0;

/** A fetch that counts token-endpoint calls. */
const countingFetch = (input: string, init?: RequestInit): Promise<Response> => {
  if (input.endsWith('/oauth/token')) tokenRequests += 1;
  return fetch(input, init);
};

beforeAll(async () => {
  jot = await startIssuer({ roleScopes: '*=profile orders:read' });
  admin = await adminToken(jot);
  const { privateKey, publicKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
  privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: 'billing-1', alg: 'ES256', use: 'sig' };
  await registerClient(jot, admin, {
    client_id: 'billing',
    name: 'Billing',
    token_endpoint_auth_method: 'private_key_jwt',
    jwks: { keys: [jwk] },
    grant_types: ['client_credentials', EXCHANGE],
    scopes: ['orders:read', 'orders:write'],
    audiences: [ORDERS],
  });
  // The orders service: RFC 9068 profile, only billing may call, with its own token or on a user's behalf.
  const verifier = createVerifier({
    issuer: jot.url,
    audience: ORDERS,
    profile: 'rfc9068',
    revocation: 'none',
  });
  const guard = nodeAuth(verifier, { clientIds: ['billing'], scopes: ['orders:read'] });
  const seen: Record<string, unknown>[] = [];
  const server = createServer((req, res) => {
    void guard(req, res).then((auth) => {
      if (auth === undefined) return; // refused: the 401/403 is sent
      seen.push({ ...auth.claims });
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ sub: auth.claims.sub }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  orders = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, verifier, seen };
});

afterAll(async () => {
  orders?.server.closeAllConnections();
  await new Promise((resolve) => orders?.server.close(resolve));
  await orders?.verifier.close();
  await jot?.close();
});

describe('createServiceClient', () => {
  it('calls another service with a client-credentials token, cached across calls', async () => {
    const service = createServiceClient({
      issuer: jot.url,
      clientId: 'billing',
      privateKey: privatePem,
      kid: 'billing-1',
      fetch: countingFetch,
    });
    const before = tokenRequests;
    const res = await service.fetch(`${orders.url}/orders`, { audience: ORDERS, scope: 'orders:read' });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: 'billing' });
    expect(orders.seen.at(-1)).toMatchObject({ client_id: 'billing', scope: 'orders:read', aud: ORDERS });
    await service.fetch(`${orders.url}/orders`, { audience: ORDERS, scope: 'orders:read' });
    const parallel = await Promise.all(Array.from({ length: 5 }, () => service.token({ audience: ORDERS })));
    expect(new Set(parallel).size).toBe(1);
    expect(tokenRequests - before).toBe(2); // one per distinct target, however many calls
  });

  it("calls on a user's behalf with token exchange", async () => {
    const user = await signUp(jot, 'shopper@example.com');
    const service = createServiceClient({
      issuer: jot.url,
      clientId: 'billing',
      privateKey: privatePem,
      kid: 'billing-1',
    });
    const res = await service.fetchAs(user.access_token, `${orders.url}/orders`, { audience: ORDERS });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ sub: user.userId });
    expect(orders.seen.at(-1)).toMatchObject({
      act: { sub: 'billing' },
      client_id: 'billing',
      scope: 'orders:read',
    });
  });

  it('retries once with a fresh token after a 401 invalid_token', async () => {
    const service = createServiceClient({
      issuer: jot.url,
      clientId: 'billing',
      privateKey: privatePem,
      kid: 'billing-1',
    });
    const tokens: string[] = [];
    let refused = false;
    const flaky = createServer((req, res) => {
      tokens.push(req.headers.authorization ?? '');
      if (!refused) {
        refused = true;
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
      } else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => flaky.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(flaky.address() as AddressInfo).port}/`;
    try {
      expect((await service.fetch(url, { audience: ORDERS })).status).toBe(204);
      expect(tokens).toHaveLength(2);
      expect(tokens[0]).not.toBe(tokens[1]);
    } finally {
      flaky.closeAllConnections();
      await new Promise((resolve) => flaky.close(resolve));
    }
  });

  it('works with a client secret', async () => {
    const { client, client_secret } = await registerClient(jot, admin, {
      name: 'Reporting',
      token_endpoint_auth_method: 'client_secret_basic',
      scopes: ['orders:read'],
      audiences: [ORDERS],
    });
    const service = createServiceClient({
      issuer: jot.url,
      clientId: client.client_id,
      clientSecret: client_secret!,
    });
    const token = await service.token({ audience: ORDERS });
    expect((await orders.verifier.verify(token)).client_id).toBe(client.client_id);
    // …but the orders route only admits billing.
    expect((await service.fetch(`${orders.url}/orders`, { audience: ORDERS })).status).toBe(403);
  });

  it('reports refusals as ServiceErrors with the RFC 6749 error', async () => {
    const { privateKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
    const wrongKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const service = createServiceClient({
      issuer: jot.url,
      clientId: 'billing',
      privateKey: wrongKey,
      kid: 'billing-1',
    });
    const err = await service.token({ audience: ORDERS }).catch((e: unknown) => e);
    expect(isServiceError(err, 'ERR_SERVICE_TOKEN_REFUSED')).toBe(true);
    expect(err).toMatchObject({ error: 'invalid_client', status: 401 });
    const target = createServiceClient({
      issuer: jot.url,
      clientId: 'billing',
      privateKey: privatePem,
      kid: 'billing-1',
    });
    await expect(target.token({ audience: 'https://elsewhere.internal' })).rejects.toMatchObject({
      error: 'invalid_target',
      status: 400,
    });
    const lost = createServiceClient({
      issuer: 'http://127.0.0.1:9',
      clientId: 'billing',
      privateKey: privatePem,
      timeout: 0.5,
    });
    await expect(lost.token()).rejects.toBeInstanceOf(ServiceError);
    expect(() => createServiceClient({ issuer: jot.url, clientId: 'billing' } as never)).toThrow(TypeError);
  });
});

describe('TokenCache', () => {
  it('renews a token from renewBefore ahead of its expiry, and a short-lived one from three quarters', async () => {
    let now = 1_000_000;
    let issued = 0;
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => now });
    const fetchToken = (expiresIn: number) => () =>
      Promise.resolve({ access_token: `t${++issued}`, token_type: 'Bearer' as const, expires_in: expiresIn });
    const settle = () => new Promise((resolve) => setImmediate(resolve));
    expect(await cache.get('a', fetchToken(900))).toBe('t1');
    now += 839_000;
    expect(await cache.get('a', fetchToken(900))).toBe('t1');
    await settle();
    expect(issued).toBe(1);
    now += 1_000; // 60 s before expiry: renewed in the background, the cached token served meanwhile
    expect(await cache.get('a', fetchToken(900))).toBe('t1');
    await settle();
    expect(await cache.get('a', fetchToken(900))).toBe('t2');
    expect(await cache.get('b', fetchToken(60))).toBe('t3');
    now += 44_999;
    expect(await cache.get('b', fetchToken(60))).toBe('t3');
    await settle();
    expect(issued).toBe(3);
    now += 1;
    expect(await cache.get('b', fetchToken(60))).toBe('t3');
    await settle();
    expect(await cache.get('b', fetchToken(60))).toBe('t4');
  });

  it('fetches once for concurrent callers, caches no failure, and drops a refused token', async () => {
    const cache = new TokenCache({ renewBeforeMs: 60_000, clock: () => 0 });
    let calls = 0;
    const slow = () => {
      calls += 1;
      return new Promise<OAuthTokenResponse>((resolve) =>
        setImmediate(() => resolve({ access_token: `t${calls}`, token_type: 'Bearer', expires_in: 900 })),
      );
    };
    expect(
      new Set(await Promise.all([cache.get('k', slow), cache.get('k', slow), cache.get('k', slow)])),
    ).toEqual(new Set(['t1']));
    expect(calls).toBe(1);
    await expect(cache.get('x', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    expect(await cache.get('x', slow)).toBe('t2');
    cache.drop('k', 't1');
    expect(await cache.get('k', slow)).toBe('t3');
  });
});

describe('DPoP (RFC 9449)', () => {
  let issuer: TestServer;
  let secret: string;
  let admin: string;
  let api: { url: string; server: Server; verifier: Verifier; seen: Record<string, unknown>[] };
  const tokenCalls: number[] = [];

  beforeAll(async () => {
    // Jot demands its nonces; the resource server demands its own, and refuses unbound tokens.
    issuer = await startIssuer({ dpopNonce: true });
    admin = await adminToken(issuer);
    const registered = await registerClient(issuer, admin, {
      client_id: 'ledger',
      name: 'Ledger',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: [ORDERS],
      dpop: 'required',
    });
    secret = registered.client_secret!;
    const verifier = createVerifier({
      issuer: issuer.url,
      audience: ORDERS,
      profile: 'rfc9068',
      revocation: 'none',
      dpop: { required: true, nonce: { secret: 'n'.repeat(40) } },
    });
    const guard = nodeAuth(verifier);
    const seen: Record<string, unknown>[] = [];
    const server = createServer((req, res) => {
      void guard(req, res).then((auth) => {
        if (auth === undefined) return;
        seen.push({ ...auth.claims });
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ via: auth.via }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    api = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, verifier, seen };
  });
  afterAll(async () => {
    api?.server.closeAllConnections();
    await new Promise((resolve) => api?.server.close(resolve));
    await api?.verifier.close();
    await issuer?.close();
  });

  const counting = (input: string, init?: RequestInit): Promise<Response> => {
    if (input.endsWith('/oauth/token')) tokenCalls.push(Date.now());
    return fetch(input, init);
  };

  it('binds its tokens to a non-extractable key and answers the nonce challenges of Jot and of the API', async () => {
    const keys = await generateDPoPKey();
    expect(keys.privateKey.extractable).toBe(false);
    const service = createServiceClient({
      issuer: issuer.url,
      clientId: 'ledger',
      clientSecret: secret,
      dpop: keys,
      fetch: counting,
    });
    const before = tokenCalls.length;
    const res = await service.fetch(`${api.url}/entries?page=2`, { audience: ORDERS });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ via: 'dpop' });
    // One use_dpop_nonce round at the token endpoint, then the token.
    expect(tokenCalls.length - before).toBe(2);
    const claims = api.seen.at(-1)!;
    expect(claims.cnf).toEqual({ jkt: expect.stringMatching(/^[\w-]{43}$/) });
    // Later calls reuse the token and the nonces: a POST with a body goes through at once.
    const post = await service.fetch(
      `${api.url}/entries`,
      { audience: ORDERS },
      { method: 'POST', body: '{}' },
    );
    expect(post.status).toBe(200);
    expect(tokenCalls.length - before).toBe(2);

    // The token alone is worth nothing: as Bearer, or as DPoP without the key's proof.
    const token = await service.token({ audience: ORDERS });
    const bearer = await fetch(`${api.url}/entries`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(401);
    const noProof = await fetch(`${api.url}/entries`, { headers: { authorization: `DPoP ${token}` } });
    expect(noProof.status).toBe(401);
    expect(noProof.headers.get('www-authenticate')).toMatch(/^DPoP /);
  });

  it('a client registered with DPoP required gets no token without it', async () => {
    const plain = createServiceClient({ issuer: issuer.url, clientId: 'ledger', clientSecret: secret });
    const err = await plain.token({ audience: ORDERS }).catch((e: unknown) => e);
    expect(isServiceError(err, 'ERR_SERVICE_TOKEN_REFUSED')).toBe(true);
    expect(err).toMatchObject({ error: 'invalid_dpop_proof', status: 400 });
  });

  it('uses a fresh client assertion for the nonce retry (private_key_jwt)', async () => {
    const { privateKey, publicKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
    await registerClient(issuer, admin, {
      client_id: 'keyed',
      name: 'Keyed',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'keyed-1', alg: 'ES256' }] },
      audiences: [ORDERS],
    });
    const service = createServiceClient({
      issuer: issuer.url,
      clientId: 'keyed',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      kid: 'keyed-1',
      dpop: true,
    });
    const res = await service.fetch(`${api.url}/entries`, { audience: ORDERS });
    expect(res.status).toBe(200);
  });
});

describe('discovery and transport failures', () => {
  it('ERR_SERVICE_DISCOVERY when the issuer metadata cannot be read or names another issuer', async () => {
    const lost = createServiceClient({
      issuer: 'http://127.0.0.1:9',
      clientId: 'billing',
      clientSecret: 'x',
      timeout: 0.5,
    });
    await expect(lost.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_DISCOVERY' });
    const impostor = createServiceClient({
      issuer: `${jot.url}/`,
      clientId: 'billing',
      clientSecret: 'x',
    });
    await expect(impostor.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_DISCOVERY' });
  });

  it('ERR_SERVICE_UNAVAILABLE when the token endpoint does not answer or answers no token', async () => {
    const down = createServiceClient({
      issuer: jot.url,
      tokenEndpoint: 'http://127.0.0.1:9/oauth/token',
      clientId: 'billing',
      clientSecret: 'x',
      timeout: 0.5,
    });
    await expect(down.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
    // 200 with something that is not a token response, and a 502 without an OAuth error.
    const answers = [
      { status: 200, body: '{"hello":"world"}' },
      { status: 502, body: '<html>bad gateway</html>' },
    ];
    let next = 0;
    const odd = createServer((_req, res) => {
      const answer = answers[next++ % answers.length]!;
      res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
    });
    await new Promise<void>((resolve) => odd.listen(0, '127.0.0.1', resolve));
    try {
      const service = createServiceClient({
        issuer: jot.url,
        tokenEndpoint: `http://127.0.0.1:${(odd.address() as AddressInfo).port}/oauth/token`,
        clientId: 'billing',
        clientSecret: 'x',
      });
      await expect(service.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE' });
      await expect(service.token()).rejects.toMatchObject({ code: 'ERR_SERVICE_UNAVAILABLE', status: 502 });
    } finally {
      odd.closeAllConnections();
      await new Promise((resolve) => odd.close(resolve));
    }
  });
});
