/**
 * DPoP (RFC 9449) on the server: a proof at sign-in binds the session (refresh needs proofs from the same key) and
 * every access token (`cnf.jkt`, `token_type: DPoP`); protected routes need `Authorization: DPoP` plus a fresh proof
 * for the method and URL; each failure is answered with the RFC's error and challenge; nonces; replay refused across
 * instances through the database.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, decodeUnverified, generateKeyPair } from '@jot/jose';
import { openStore, type Store } from '@jot/server';

import { requirePostgres } from './support/postgres.js';
import { requireRedis, TEST_REDIS_URL } from './support/redis.js';
import { dpopClient, type DPoPClient } from './support/dpop.js';
import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';

const PASSWORD = 'correct horse battery';

async function register(server: TestServer, email: string): Promise<void> {
  const reg = await server.request('POST', '/api/register', { body: { email, password: PASSWORD } });
  expect(reg.status).toBe(201);
}

function challenge(res: { headers: Headers }): string {
  return res.headers.get('www-authenticate') ?? '';
}

describe('DPoP-bound sessions', () => {
  let server: TestServer;
  let client: DPoPClient;
  let access: string;
  let refresh: string;

  beforeAll(async () => {
    server = await startServer();
    await register(server, 'dpop@example.com');
    client = dpopClient(server);
    const login = await client.request('POST', '/api/login', {
      body: { email: 'dpop@example.com', password: PASSWORD },
    });
    expect(login.status).toBe(200);
    expect(login.body.token_type).toBe('DPoP');
    access = login.body.access_token;
    refresh = login.body.refresh_token;
  });
  afterAll(() => server?.close());

  it('binds the access token to the proof key (cnf.jkt) and accepts it with a proof', async () => {
    expect(decodeUnverified(access).payload.cnf).toEqual({ jkt: client.key.thumbprint() });
    const who = await client.request('GET', '/api/whoami', { token: access });
    expect(who.status).toBe(200);
    expect(who.body.claims.cnf.jkt).toBe(client.key.thumbprint());
  });

  it('the revocation feed refuses the bound (admin) token as Bearer: its binding is checked there too', async () => {
    const feed = await server.request('GET', '/api/revocations', { token: access });
    expect(feed.status).toBe(401);
    expect(feed.body.code).toBe('ERR_DPOP_REQUIRED');
    expect(challenge(feed)).toMatch(/^DPoP error="invalid_token"/);
  });

  it('refuses the bound token as Bearer, or as DPoP without a proof, with DPoP challenges', async () => {
    const bearer = await server.request('GET', '/api/whoami', { token: access });
    expect(bearer.status).toBe(401);
    expect(bearer.body.code).toBe('ERR_DPOP_REQUIRED');
    expect(challenge(bearer)).toMatch(/^DPoP error="invalid_token", error_description="[^"]+", algs="ES256 /);
    const noProof = await client.request('GET', '/api/whoami', { token: access, proof: { omit: true } });
    expect(noProof.status).toBe(401);
    expect(noProof.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' });
    expect(challenge(noProof)).toMatch(/^DPoP error="invalid_dpop_proof"/);
  });

  it.each([
    ['a replayed proof', 'ERR_DPOP_PROOF_REPLAYED', 'replay'],
    ['a proof for another URL', 'ERR_DPOP_PROOF_INVALID', { htu: 'http://127.0.0.1:1/api/whoami' }],
    ['a proof for another method', 'ERR_DPOP_PROOF_INVALID', { htm: 'POST' }],
    ['a stale proof', 'ERR_DPOP_PROOF_INVALID', { iat: Math.floor(Date.now() / 1000) - 600 }],
    ['a proof from the future', 'ERR_DPOP_PROOF_INVALID', { iat: Math.floor(Date.now() / 1000) + 600 }],
    ['a proof for another token (ath)', 'ERR_DPOP_PROOF_INVALID', { accessToken: 'another-token' }],
    ['a proof from another key', 'ERR_DPOP_KEY_MISMATCH', 'other-key'],
    ['two DPoP headers', 'ERR_DPOP_PROOF_INVALID', 'two'],
  ] as const)('refuses %s with invalid_dpop_proof', async (_name, code, change) => {
    let res: TestResponse;
    if (change === 'replay') {
      expect((await client.request('GET', '/api/whoami', { token: access })).status).toBe(200);
      res = await client.request('GET', '/api/whoami', { token: access, proof: { raw: client.lastProof } });
    } else if (change === 'other-key') {
      res = await dpopClient(server).request('GET', '/api/whoami', { token: access });
    } else if (change === 'two') {
      const proof = client.proof('GET', '/api/whoami', { accessToken: access });
      const raw = await fetch(`${server.url}/api/whoami`, {
        headers: [
          ['authorization', `DPoP ${access}`],
          ['dpop', proof],
          ['dpop', client.proof('GET', '/api/whoami', { accessToken: access })],
        ],
      });
      res = { status: raw.status, headers: raw.headers, body: await raw.json(), text: '' };
    } else {
      res = await client.request('GET', '/api/whoami', { token: access, proof: change });
    }
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_dpop_proof', code });
    expect(challenge(res)).toMatch(/^DPoP error="invalid_dpop_proof", error_description="[^"]+", algs="/);
  });

  // RFC 9449 §4.2's jti is an identifier: a control character (which PostgreSQL refuses in text) or a lone
  // surrogate (stored as U+FFFD, so "\ud800x" and "\udbffx" were one jti and the second a "replay") is an invalid
  // proof, refused before the replay store sees it.
  it.each([
    ['a NUL', 'a\u0000b'],
    ['a newline', 'a\nb'],
    ['a unit separator', 'a\u001fb'],
    ['a DEL', 'a\u007fb'],
    ['a lone high surrogate', '\ud800x'],
    ['a lone low surrogate', 'x\udfff'],
  ])(
    'refuses a proof whose jti has %s: invalid_dpop_proof at a resource and at sign-in',
    async (_name, jti) => {
      const resource = await client.request('GET', '/api/whoami', { token: access, proof: { jti } });
      expect({ status: resource.status, body: resource.body }).toEqual({
        status: 401,
        body: {
          error: 'invalid_dpop_proof',
          error_description: expect.stringMatching(/"jti" must not contain control characters/),
          code: 'ERR_DPOP_PROOF_INVALID',
        },
      });
      expect(challenge(resource)).toMatch(/^DPoP error="invalid_dpop_proof"/);
      const signIn = await client.request('POST', '/api/login', {
        body: { email: 'dpop@example.com', password: PASSWORD },
        proof: { jti },
      });
      expect({ status: signIn.status, error: signIn.body.error, code: signIn.body.code }).toEqual({
        status: 400,
        error: 'invalid_dpop_proof',
        code: 'ERR_DPOP_PROOF_INVALID',
      });
    },
  );

  it('accepts a jti of any other characters, a paired surrogate (one emoji) included, once', async () => {
    const jti = `caf\u00e9-\u{1f511}-${Date.now()}`;
    const first = await client.request('GET', '/api/whoami', { token: access, proof: { jti } });
    expect(first.status).toBe(200);
    const again = await client.request('GET', '/api/whoami', { token: access, proof: { jti } });
    expect({ status: again.status, code: again.body.code }).toEqual({
      status: 401,
      code: 'ERR_DPOP_PROOF_REPLAYED',
    });
  });

  it('refreshes only with a proof from the same key; a refused proof does not spend the refresh token', async () => {
    const none = await server.request('POST', '/api/token/refresh', { body: { refresh_token: refresh } });
    expect(none.status).toBe(400);
    expect(none.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' });
    const thief = await dpopClient(server).request('POST', '/api/token/refresh', {
      body: { refresh_token: refresh },
    });
    expect(thief.status).toBe(400);
    expect(thief.body.code).toBe('ERR_DPOP_KEY_MISMATCH');
    const ok = await client.request('POST', '/api/token/refresh', { body: { refresh_token: refresh } });
    expect(ok.status).toBe(200);
    expect(ok.body.token_type).toBe('DPoP');
    expect(decodeUnverified(ok.body.access_token).payload.cnf).toEqual({ jkt: client.key.thumbprint() });
    refresh = ok.body.refresh_token;
    access = ok.body.access_token;
  });

  it('introspects a bound token with its cnf and token_type DPoP', async () => {
    const secretServer = await startServer({ revocationSecret: 's'.repeat(40) });
    try {
      await register(secretServer, 'i@example.com');
      const c = dpopClient(secretServer);
      const login = await c.request('POST', '/api/login', {
        body: { email: 'i@example.com', password: PASSWORD },
      });
      const res = await secretServer.request('POST', '/api/introspect', {
        token: 's'.repeat(40),
        body: { token: login.body.access_token },
      });
      expect(res.body).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: c.key.thumbprint() } });
    } finally {
      await secretServer.close();
    }
  });

  it('keeps unbound sessions working with Bearer, and refuses DPoP for an unbound token', async () => {
    await register(server, 'plain@example.com');
    const login = await server.request('POST', '/api/login', {
      body: { email: 'plain@example.com', password: PASSWORD },
    });
    expect(login.body.token_type).toBe('Bearer');
    expect((await server.request('GET', '/api/whoami', { token: login.body.access_token })).status).toBe(200);
    const asDPoP = await client.request('GET', '/api/whoami', { token: login.body.access_token });
    expect(asDPoP.status).toBe(401);
    expect(asDPoP.body.code).toBe('ERR_DPOP_KEY_MISMATCH');
  });

  it('refuses a proof with cookie delivery: the page could not compute ath', async () => {
    const res = await client.request('POST', '/api/login', {
      body: { email: 'dpop@example.com', password: PASSWORD, delivery: 'cookie' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_VALIDATION');
  });
});

describe('DPoP policy and nonces', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer({ dpop: 'required', dpopNonce: true });
    await register(server, 'n@example.com');
  });
  afterAll(() => server?.close());

  it('requires a proof at sign-in, then a server nonce (use_dpop_nonce), and accepts the retry', async () => {
    const body = { email: 'n@example.com', password: PASSWORD };
    const plain = await server.request('POST', '/api/login', { body });
    expect(plain.status).toBe(400);
    expect(plain.body).toMatchObject({ error: 'invalid_dpop_proof', code: 'ERR_DPOP_REQUIRED' });
    const client = dpopClient(server);
    const first = await client.request('POST', '/api/login', { body });
    expect(first.status).toBe(400);
    expect(first.body).toMatchObject({ error: 'use_dpop_nonce', code: 'ERR_DPOP_NONCE_REQUIRED' });
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toMatch(/^[0-9a-z]+\.[\w-]{22}$/);
    const second = await client.request('POST', '/api/login', { body, proof: { nonce: nonce! } });
    expect(second.status).toBe(200);
    expect(second.headers.get('dpop-nonce')).toBeTruthy();

    const token = second.body.access_token as string;
    const noNonce = await client.request('GET', '/api/whoami', { token });
    expect(noNonce.status).toBe(401);
    expect(challenge(noNonce)).toMatch(/^DPoP error="use_dpop_nonce"/);
    expect(noNonce.headers.get('dpop-nonce')).toBeTruthy();
    const withNonce = await client.request('GET', '/api/whoami', {
      token,
      proof: { nonce: noNonce.headers.get('dpop-nonce')! },
    });
    expect(withNonce.status).toBe(200);
    const forged = await client.request('GET', '/api/whoami', {
      token,
      proof: { nonce: `${nonce!.split('.')[0]}.${'A'.repeat(22)}` },
    });
    expect(forged.body.code).toBe('ERR_DPOP_NONCE_REQUIRED');
  });
});

const pg = await requirePostgres('the DPoP replay suite');
const redisUp = await requireRedis('DPoP replay through Redis');

/** Two instances behind one external URL; `shared` opens each instance's store (or undefined: a's own). */
async function twoInstances(
  settings: Record<string, string> = {},
  openEach?: (dataDir: string) => Promise<Store>,
): Promise<[TestServer, TestServer]> {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-dpop-'));
  const a = await startServer(settings, { dataDir, store: await openEach?.(dataDir) });
  const b = await startServer(
    { ...settings, externalUrl: a.url },
    { dataDir, store: openEach === undefined ? a.app.jot.store : await openEach(dataDir) },
  );
  return [a, b];
}

describe('DPoP replay across instances', () => {
  async function race(a: TestServer, b: TestServer, email: string): Promise<void> {
    await register(a, email);
    const key = generateKeyPair('ES256');
    const login = await dpopClient(a, key).request('POST', '/api/login', {
      body: { email, password: PASSWORD },
    });
    const token = login.body.access_token as string;
    // One proof for a's URL, which b also answers to (JOT_EXTERNAL_URL), sent to both at once.
    const proof = createDPoPProof(key, { htm: 'GET', htu: `${a.url}/api/whoami`, accessToken: token });
    const headers = { authorization: `DPoP ${token}`, dpop: proof };
    const results = await Promise.all(
      [a, b, a, b].map(async (s) => {
        const res = await fetch(`${s.url}/api/whoami`, { headers });
        return { status: res.status, code: ((await res.json()) as { code?: string }).code };
      }),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(1);
    expect(results.filter((r) => r.code === 'ERR_DPOP_PROOF_REPLAYED')).toHaveLength(3);
  }

  async function closeBoth(a: TestServer, b: TestServer, ownStores: boolean): Promise<void> {
    if (ownStores) await Promise.all([a.app.jot.store.close(), b.app.jot.store.close()]);
    await b.app.close();
    await a.close();
  }

  it('on one SQLite database: exactly one instance accepts a proof', async () => {
    const [a, b] = await twoInstances();
    try {
      await race(a, b, 'sqlite@example.com');
    } finally {
      await closeBoth(a, b, false);
    }
  });

  it.skipIf(pg === undefined)(
    'on PostgreSQL (two connection pools): exactly one instance accepts a proof',
    async () => {
      const [a, b] = await twoInstances({}, (dataDir) =>
        openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } }),
      );
      try {
        await race(a, b, 'pg@example.com');
      } finally {
        await closeBoth(a, b, true);
        await pg!.drop();
      }
    },
  );

  it.skipIf(!redisUp)('with Redis (SET NX): exactly one instance accepts a proof', async () => {
    const [a, b] = await twoInstances({ redisUrl: TEST_REDIS_URL });
    try {
      await race(a, b, 'redis@example.com');
    } finally {
      await closeBoth(a, b, false);
    }
  });
});
