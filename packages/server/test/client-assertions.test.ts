/**
 * RFC 7523 client assertions at the token endpoint: every bad assertion is refused with 401 `invalid_client` and
 * the reason, and a `jti` is single-use — among parallel requests, and across two server instances sharing one
 * PostgreSQL database.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { base64url, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { openStore } from '@jot/server';

import { startServer, type TestServer } from './support/jot-server.js';
import { adminToken, clientKeyPair, postForm, registerClient, startIssuer } from './support/oauth.js';
import { requirePostgres } from './support/postgres.js';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

interface Claims {
  iss?: string;
  sub?: string;
  aud?: string | string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  jti?: string;
  [claim: string]: unknown;
}

function now(): number {
  return Math.floor(Date.now() / 1000);
}

async function assertion(
  key: CryptoKey | Uint8Array,
  claims: Claims,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', ...header }).sign(key);
}

function tokenRequest(server: TestServer, clientAssertion: string, extra: Record<string, string> = {}) {
  return postForm(server, '/oauth/token', {
    grant_type: 'client_credentials',
    client_assertion_type: ASSERTION_TYPE,
    client_assertion: clientAssertion,
    ...extra,
  });
}

function expectRefused(
  res: { status: number; body: { error: string; code: string }; headers: Headers },
  code = 'ERR_CLIENT_ASSERTION_INVALID',
) {
  expect({ status: res.status, error: res.body.error, code: res.body.code }).toEqual({
    status: 401,
    error: 'invalid_client',
    code,
  });
  expect(res.headers.get('www-authenticate')).toMatch(/^Basic realm="jot"/);
  expect(res.headers.get('cache-control')).toBe('no-store');
}

describe('client assertions (private_key_jwt)', () => {
  let server: TestServer;
  let privateKey: CryptoKey;
  const clientId = 'svc-a';

  const good = (extra: Claims = {}): Claims => ({
    iss: clientId,
    sub: clientId,
    aud: server.url,
    iat: now(),
    exp: now() + 60,
    jti: randomBytes(12).toString('base64url'),
    ...extra,
  });

  beforeAll(async () => {
    server = await startIssuer();
    const admin = await adminToken(server);
    const pair = await clientKeyPair();
    privateKey = pair.privateKey;
    await registerClient(server, admin, {
      client_id: clientId,
      name: 'Service A',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [pair.jwk] },
      audiences: ['https://b.internal'],
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it('accepts a good assertion, with aud = the issuer or the token endpoint', async () => {
    for (const aud of [server.url, `${server.url}/oauth/token`]) {
      const res = await tokenRequest(server, await assertion(privateKey, good({ aud })));
      expect(res.status).toBe(200);
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 900 });
    }
  });

  it('refuses an expired assertion', async () => {
    expectRefused(
      await tokenRequest(server, await assertion(privateKey, good({ iat: now() - 120, exp: now() - 60 }))),
    );
  });

  it('refuses an assertion not yet valid (nbf in the future)', async () => {
    expectRefused(await tokenRequest(server, await assertion(privateKey, good({ nbf: now() + 120 }))));
  });

  it('refuses an assertion whose lifetime is too long', async () => {
    const res = await tokenRequest(server, await assertion(privateKey, good({ exp: now() + 3600 })));
    expectRefused(res);
    expect(res.body.error_description).toMatch(/lifetime/);
  });

  it('refuses a wrong aud', async () => {
    for (const aud of ['https://other.example', `${server.url}/oauth/token/x`, [`${server.url}.evil.net`]]) {
      expectRefused(await tokenRequest(server, await assertion(privateKey, good({ aud }))));
    }
  });

  it('refuses a wrong iss or sub, and an iss that is not the client_id parameter', async () => {
    expectRefused(await tokenRequest(server, await assertion(privateKey, good({ sub: 'someone-else' }))));
    expectRefused(await tokenRequest(server, await assertion(privateKey, good({ iss: 'someone-else' }))));
    expectRefused(
      await tokenRequest(server, await assertion(privateKey, good()), { client_id: 'another-client' }),
    );
    const unknown = await tokenRequest(
      server,
      await assertion(privateKey, good({ iss: 'nobody', sub: 'nobody' })),
    );
    expectRefused(unknown, 'ERR_CLIENT_AUTH_FAILED');
  });

  it('refuses a replayed jti, and lets exactly one of parallel uses win', async () => {
    const once = await assertion(privateKey, good());
    expect((await tokenRequest(server, once)).status).toBe(200);
    expectRefused(await tokenRequest(server, once), 'ERR_CLIENT_ASSERTION_REPLAYED');
    const parallel = await assertion(privateKey, good());
    const results = await Promise.all(Array.from({ length: 6 }, () => tokenRequest(server, parallel)));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401, 401]);
  });

  it('refuses an assertion signed by an unregistered key', async () => {
    const stranger = await clientKeyPair();
    expectRefused(await tokenRequest(server, await assertion(stranger.privateKey, good())));
    expectRefused(await tokenRequest(server, await assertion(stranger.privateKey, good(), { kid: 'k9' })));
  });

  it('refuses an HS256 assertion from a key-pair client, and alg none', async () => {
    const hs = await new SignJWT(good())
      .setProtectedHeader({ alg: 'HS256', kid: 'k1' })
      .sign(new TextEncoder().encode('a shared secret that is long enough for HS256!'));
    expectRefused(await tokenRequest(server, hs));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid: 'k1' }))}.${base64url.encode(JSON.stringify(good()))}.`;
    expectRefused(await tokenRequest(server, none));
  });

  it('refuses an oversized assertion before decoding it', async () => {
    const res = await tokenRequest(server, await assertion(privateKey, good({ padding: 'x'.repeat(9000) })));
    expectRefused(res);
    expect(res.body.error_description).toMatch(/longer than 8192/);
  });

  it('refuses an assertion typed as something else (an access token)', async () => {
    expectRefused(await tokenRequest(server, await assertion(privateKey, good(), { typ: 'at+jwt' })));
  });

  it('refuses a wrong client_assertion_type', async () => {
    const res = await postForm(server, '/oauth/token', {
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:example:other',
      client_assertion: await assertion(privateKey, good()),
    });
    expectRefused(res);
  });
});

const pg = await requirePostgres('client-assertions');

describe.skipIf(pg === undefined)('assertion jti across two instances on one PostgreSQL database', () => {
  const issuer = 'http://jot.test';
  const kek = randomBytes(32).toString('base64url');
  const dirs = [mkdtempSync(join(tmpdir(), 'jot-a-')), mkdtempSync(join(tmpdir(), 'jot-b-'))];
  const servers: TestServer[] = [];

  beforeAll(async () => {
    for (const dataDir of dirs) {
      const store = await openStore({ url: pg!.url, dataDir, postgres: { schema: pg!.schema } });
      servers.push(await startServer({ issuer, kek }, { dataDir, store }));
    }
  });
  afterAll(async () => {
    for (const server of servers) {
      await server.close({ keepData: true });
      await server.app.jot.store.close();
    }
    await pg!.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('a jti used on one instance is refused on the other', async () => {
    const [a, b] = servers as [TestServer, TestServer];
    const admin = await adminToken(a);
    const { privateKey, jwk } = await clientKeyPair();
    await registerClient(a, admin, {
      client_id: 'svc-pg',
      name: 'Service on PostgreSQL',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [jwk] },
      audiences: ['https://b.internal'],
    });
    const claims = {
      iss: 'svc-pg',
      sub: 'svc-pg',
      aud: issuer,
      iat: now(),
      exp: now() + 60,
      jti: 'once-only',
    };
    const signed = await assertion(privateKey, claims);
    expect((await tokenRequest(a, signed)).status).toBe(200);
    expectRefused(await tokenRequest(b, signed), 'ERR_CLIENT_ASSERTION_REPLAYED');
    // And concurrently, one on each instance: exactly one wins.
    const second = await assertion(privateKey, { ...claims, jti: 'raced' });
    const raced = await Promise.all([
      tokenRequest(a, second),
      tokenRequest(b, second),
      tokenRequest(a, second),
      tokenRequest(b, second),
    ]);
    expect(raced.filter((r) => r.status === 200)).toHaveLength(1);
  });
});
