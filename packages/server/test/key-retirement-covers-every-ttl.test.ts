/**
 * A retired key stays published until every token it signed has expired — client-credentials tokens included,
 * whose lifetime is the client's own `access_token_ttl` (up to a day), not JOT_ACCESS_TOKEN_TTL.
 */
import { afterEach, expect, it } from 'vitest';

import { KeySet, decodeUnverified, verify } from '@jot/jose';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { postForm, registerClient } from './support/oauth.js';

const running: TestServer[] = [];
afterEach(async () => {
  while (running.length > 0) await running.pop()!.close();
});

const MIN = 60_000;

/** A batch-job client whose tokens live an hour (its own access_token_ttl), and one token of it. */
async function hourLongClientToken(
  server: TestServer,
  admin: string,
): Promise<{
  client: { client_id: string };
  basic: Record<string, string>;
  issued: Awaited<ReturnType<typeof postForm>>;
}> {
  const { client, client_secret } = await registerClient(server, admin, {
    token_endpoint_auth_method: 'client_secret_basic',
    name: 'Batch job',
    grant_types: ['client_credentials'],
    audiences: ['https://api.example.com'],
    access_token_ttl: 3600,
  });
  const basic = {
    authorization: `Basic ${Buffer.from(`${client.client_id}:${client_secret}`).toString('base64')}`,
  };
  const issued = await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, basic);
  expect(issued.status).toBe(200);
  return { client, basic, issued };
}

it('keeps a retired key published until a client-credentials token it signed (client access_token_ttl) expires', async () => {
  let now = Date.UTC(2031, 5, 1);
  const server = await startServer(
    { keyPrepublish: '10m', jwksMaxAge: '5m', accessTokenTtl: '15m' },
    { clock: () => now },
  );
  running.push(server);
  const admin = (await signUp(server, 'admin@example.com')).access_token;
  const { client, basic, issued } = await hourLongClientToken(server, admin);
  expect(issued.body.expires_in).toBe(3600);
  const token = issued.body.access_token as string;
  const oldKid = decodeUnverified(token).header.kid;

  // An ordinary scheduled-style rotation: pre-published for 10 minutes, then the old key retires.
  const rotated = await server.request('POST', '/api/admin/keys/rotate', { token: admin, body: {} });
  expect(rotated.status).toBe(201);
  now += 10 * MIN; // new key active, old key retired now
  now += 20 * MIN; // 30 minutes into a 60-minute token
  await server.app.jot.keys.tick();

  // The token is not expired; its key must still be published and must still verify it.
  expect(decodeUnverified(token).payload.exp! * 1000).toBeGreaterThan(now);
  const jwks = (await server.request('GET', '/.well-known/jwks.json')).body;
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(oldKid);
  const payload = verify(token, KeySet.fromJWKS(jwks), {
    algorithms: ['ES256'],
    currentDate: new Date(now),
    typ: 'at+jwt',
  }).payload;
  expect(payload.sub).toBe(client.client_id);
  const introspected = await postForm(server, '/oauth/introspect', { token }, basic);
  expect(introspected.body.active).toBe(true);
});

it('lengthens the stay of a key already retiring when a client with a longer access_token_ttl registers meanwhile', async () => {
  let now = Date.UTC(2031, 5, 1);
  const server = await startServer(
    { keyPrepublish: '10m', jwksMaxAge: '5m', accessTokenTtl: '15m' },
    { clock: () => now },
  );
  running.push(server);
  const admin = (await signUp(server, 'admin@example.com')).access_token;
  // The successor is created (and the old key's retirement written) before the client exists.
  const rotated = await server.request('POST', '/api/admin/keys/rotate', { token: admin, body: {} });
  expect(rotated.status).toBe(201);
  now += 2 * MIN;
  const { client, issued } = await hourLongClientToken(server, admin);
  const token = issued.body.access_token as string;
  const oldKid = decodeUnverified(token).header.kid;
  expect(oldKid).not.toBe(rotated.body.kid); // signed by the key that is about to retire
  await server.app.jot.keys.tick(); // the minute's schedule
  now += 8 * MIN; // successor active, old key retired
  now += 20 * MIN; // 30 minutes into the 60-minute token
  await server.app.jot.keys.tick();

  expect(decodeUnverified(token).payload.exp! * 1000).toBeGreaterThan(now);
  const jwks = (await server.request('GET', '/.well-known/jwks.json')).body;
  expect(jwks.keys.map((k: { kid: string }) => k.kid)).toContain(oldKid);
  expect(
    verify(token, KeySet.fromJWKS(jwks), { algorithms: ['ES256'], currentDate: new Date(now), typ: 'at+jwt' })
      .payload.sub,
  ).toBe(client.client_id);
});
