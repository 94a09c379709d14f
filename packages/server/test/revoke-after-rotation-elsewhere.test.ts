/**
 * Revocation across instances after a key rotation: instance B has not synced the ring since A rotated in a new key
 * (a long poll interval stands for the sync window), so B must reload its keys before deciding a token is not its
 * own — answering 200 to a revocation it did not perform would leave the token valid everywhere.
 */
/**
 * Review finding: POST /oauth/revoke verifies an access token with `tokens.verifyIssued` directly, without
 * `tokens.fresh` (the reload of the key ring on an unknown kid that introspection and token exchange use). On an
 * instance that has not yet seen another instance's (emergency) key rotation, a revocation of a token signed with
 * the new key is silently dropped — yet answered 200 — and the token stays active everywhere.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, expect, it } from 'vitest';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { postForm } from './support/oauth.js';

const SECRET = 'resource-server-secret-0123456789abcdef';
let a: TestServer;
let b: TestServer;
let adminToken: string;

beforeAll(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'jot-revoke-rotated-'));
  // Two instances of one deployment on one database; B has not polled since A rotated (the sync window).
  const settings = { clusterPollInterval: '1h', revocationSecret: SECRET };
  a = await startServer(settings, { dataDir });
  b = await startServer(settings, { dataDir });
  adminToken = (await signUp(a, 'admin-kid@example.com')).access_token; // the first user is the admin
});
afterAll(async () => {
  await b?.close({ keepData: true });
  await a?.close();
});

it('before any rotation, a revocation on one instance holds on both', async () => {
  const user = await signUp(a, 'control-kid@example.com');
  expect((await postForm(b, '/oauth/revoke', { token: user.access_token, client_id: 'jot' })).status).toBe(
    200,
  );
  const introspect = await postForm(
    b,
    '/oauth/introspect',
    { token: user.access_token },
    { authorization: `Bearer ${SECRET}` },
  );
  expect(introspect.body).toEqual({ active: false });
  expect((await a.request('GET', '/api/whoami', { token: user.access_token })).status).toBe(401);
});

it('RFC 7009: a token signed with a key another instance rotated in is revoked, not answered 200 and left valid', async () => {
  const rotated = await a.request('POST', '/api/admin/keys/rotate', {
    token: adminToken,
    body: { immediate: true },
  });
  expect(rotated.status).toBeLessThan(300);
  const user = await signUp(a, 'user-kid@example.com'); // signed by A with the new key

  const revoke = await postForm(b, '/oauth/revoke', { token: user.access_token, client_id: 'jot' });
  expect(revoke.status).toBe(200); // "revoked"

  const introspect = await postForm(
    b,
    '/oauth/introspect',
    { token: user.access_token },
    { authorization: `Bearer ${SECRET}` },
  );
  expect(introspect.body).toEqual({ active: false });
  expect((await a.request('GET', '/api/whoami', { token: user.access_token })).status).toBe(401);
});
