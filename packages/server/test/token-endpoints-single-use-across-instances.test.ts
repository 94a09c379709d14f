/**
 * Single-use artefacts of the token endpoints, raced over two instances on one PostgreSQL database and one Redis
 * (8 attempts at once, split between them), on one clock that the tests can move on:
 *
 * - a refresh token presented at both instances at once, within the grace window, gets one successor everywhere and
 *   raises no alarm (`/api/token/refresh` and the `refresh_token` grant of `/oauth/token`); presented at both after
 *   the window it is reuse: the session ends on both ([http-api.md](../../../docs/http-api.md#tokens));
 * - a DPoP proof is accepted once across instances — at `/oauth/token` and at a bound refresh, where the refused
 *   requests spend nothing ([dpop.md](../../../docs/dpop.md));
 * - an RFC 7523 client assertion's `jti` is used once across instances ([service-auth.md](../../../docs/service-auth.md)).
 *
 * Losers get the documented 4xx, never a 500.
 */
import { randomBytes } from 'node:crypto';

import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createDPoPProof, decodeUnverified, generateKeyPair } from '@jot/jose';

import {
  clusterBackendsAvailable,
  eventCount,
  expectOneWinner,
  fireAtAll,
  outcome,
  startCluster,
  type Cluster,
} from './support/cluster.js';
import { signUp, type TestServer } from './support/jot-server.js';
import { clientKeyPair, postForm, registerClient } from './support/oauth.js';

const ATTEMPTS = 8;
const PASSWORD = 'correct horse battery';
/** The issuer and the one external URL of every instance (support/cluster.ts). */
const ISSUER = 'http://jot.test';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

const available = await clusterBackendsAvailable('single-use token-endpoint artefacts across instances');

describe.runIf(available)('token endpoints raced over two instances (PostgreSQL + Redis)', () => {
  let skew = 0;
  const clock = () => Date.now() + skew;
  const seconds = () => Math.floor(clock() / 1000);
  let cluster: Cluster;
  let a: TestServer;
  let b: TestServer;
  let admin: string;

  beforeAll(async () => {
    cluster = await startCluster({ refreshGraceWindow: '10s' }, { clock });
    [a, b] = cluster.instances as [TestServer, TestServer];
    admin = (await signUp(a, 'admin@example.com')).access_token;
  });
  afterAll(async () => {
    await cluster?.close();
  });

  const refresh = (server: TestServer, token: string, headers: Record<string, string> = {}) =>
    server.request('POST', '/api/token/refresh', { body: { refresh_token: token }, headers });
  const sessionsOf = async (userId: string) => (await cluster.store.listSessionsForUser(userId)).length;

  describe('refresh-token rotation', () => {
    it('one refresh token at both instances at once, within the grace window: one successor, no alarm', async () => {
      const tokens = await signUp(b, 'grace-racer@example.com');
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        refresh(server, tokens.refresh_token),
      );
      expect(results.map(outcome)).toEqual(results.map(() => ({ status: 200, code: undefined })));
      const successors = new Set(results.map((r) => r.body.refresh_token as string));
      expect(successors.size).toBe(1);
      // Each attempt got its own access token, all of the one session.
      expect(new Set(results.map((r) => r.body.access_token)).size).toBe(ATTEMPTS);
      expect(new Set(results.map((r) => decodeUnverified(r.body.access_token).payload.sid)).size).toBe(1);
      expect(await eventCount(cluster.store, 'refresh_token_reuse', tokens.userId)).toBe(0);
      expect(await sessionsOf(tokens.userId)).toBe(1);
      const [successor] = successors;
      expect((await refresh(a, successor!)).status).toBe(200);
    });

    it('the refresh_token grant of /oauth/token at both instances at once: one successor, no alarm', async () => {
      const tokens = await signUp(a, 'oauth-grace-racer@example.com');
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        postForm(server, '/oauth/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: 'jot',
        }),
      );
      expect(results.map(outcome)).toEqual(results.map(() => ({ status: 200, code: undefined })));
      expect(new Set(results.map((r) => r.body.refresh_token)).size).toBe(1);
      expect(await eventCount(cluster.store, 'refresh_token_reuse', tokens.userId)).toBe(0);
      expect((await refresh(b, results[0]!.body.refresh_token)).status).toBe(200);
    });

    it('a rotated token presented at both instances at once after the window: the session ends everywhere', async () => {
      const tokens = await signUp(a, 'reuse-racer@example.com');
      const rotated = await refresh(b, tokens.refresh_token);
      expect(rotated.status).toBe(200);
      skew += 10_000; // exactly the grace window: reuse
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        refresh(server, tokens.refresh_token),
      );
      const outcomes = results.map(outcome);
      // The first to look ends the session; an attempt that reads the token after that finds none.
      for (const o of outcomes) {
        expect(o.status, JSON.stringify(outcomes)).toBe(401);
        expect(['ERR_REFRESH_TOKEN_REUSED', 'ERR_REFRESH_TOKEN_INVALID']).toContain(o.code);
      }
      expect(outcomes.some((o) => o.code === 'ERR_REFRESH_TOKEN_REUSED')).toBe(true);
      for (const server of [a, b]) {
        expect((await refresh(server, rotated.body.refresh_token)).status).toBe(401);
        const who = await server.request('GET', '/api/whoami', { token: rotated.body.access_token });
        expect(who.status).toBe(401);
      }
      expect(await sessionsOf(tokens.userId)).toBe(0);
      expect(await eventCount(cluster.store, 'refresh_token_reuse', tokens.userId)).toBeGreaterThanOrEqual(1);
    });
  });

  describe('DPoP proofs', () => {
    it('one proof at /oauth/token on both instances at once is accepted once', async () => {
      const { client, client_secret } = await registerClient(a, admin, {
        name: 'DPoP racer',
        token_endpoint_auth_method: 'client_secret_basic',
        audiences: ['https://orders.internal'],
      });
      const basic = `Basic ${Buffer.from(`${client.client_id}:${client_secret!}`).toString('base64')}`;
      const key = generateKeyPair('ES256');
      const proof = createDPoPProof(key, { htm: 'POST', htu: `${ISSUER}/oauth/token`, iat: seconds() });
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        postForm(
          server,
          '/oauth/token',
          { grant_type: 'client_credentials' },
          { authorization: basic, dpop: proof },
        ),
      );
      const won = expectOneWinner(results, 200, { status: 400, codes: ['ERR_DPOP_PROOF_REPLAYED'] });
      expect(results[won]!.body.token_type).toBe('DPoP');
      expect(decodeUnverified(results[won]!.body.access_token).payload.cnf).toEqual({
        jkt: key.thumbprint(),
      });
      for (const [i, res] of results.entries()) {
        if (i !== won) expect(res.body.error).toBe('invalid_dpop_proof');
      }
    });

    it('one proof with one bound refresh token at both instances at once: one refresh; the refused ones spend nothing', async () => {
      const email = 'dpop-refresh-racer@example.com';
      await a.request('POST', '/api/register', { body: { email, password: PASSWORD } });
      const key = generateKeyPair('ES256');
      const proofFor = (path: string) =>
        createDPoPProof(key, { htm: 'POST', htu: `${ISSUER}${path}`, iat: seconds() });
      const login = await b.request('POST', '/api/login', {
        body: { email, password: PASSWORD },
        headers: { dpop: proofFor('/api/login') },
      });
      expect(login.status, login.text).toBe(200);
      expect(login.body.token_type).toBe('DPoP');
      const userId = decodeUnverified(login.body.access_token).payload.sub as string;

      const proof = proofFor('/api/token/refresh');
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        refresh(server, login.body.refresh_token, { dpop: proof }),
      );
      const won = expectOneWinner(results, 200, { status: 400, codes: ['ERR_DPOP_PROOF_REPLAYED'] });
      expect(await eventCount(cluster.store, 'refresh_token_reuse', userId)).toBe(0);
      // The session goes on with the winner's refresh token, on either instance.
      const next = await refresh(a, results[won]!.body.refresh_token, {
        dpop: proofFor('/api/token/refresh'),
      });
      expect(next.status, next.text).toBe(200);
      expect(await sessionsOf(userId)).toBe(1);
    });
  });

  describe('client assertions (RFC 7523)', () => {
    it('one assertion (one jti) at both instances at once authenticates once', async () => {
      const { privateKey, jwk } = await clientKeyPair();
      await registerClient(b, admin, {
        client_id: 'assertion-racer',
        name: 'Assertion racer',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
        audiences: ['https://orders.internal'],
      });
      const assertion = await new SignJWT({
        iss: 'assertion-racer',
        sub: 'assertion-racer',
        aud: ISSUER,
        iat: seconds(),
        exp: seconds() + 60,
        jti: randomBytes(12).toString('base64url'),
      })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .sign(privateKey);
      const results = await fireAtAll(cluster.instances, ATTEMPTS, (server) =>
        postForm(server, '/oauth/token', {
          grant_type: 'client_credentials',
          client_assertion_type: ASSERTION_TYPE,
          client_assertion: assertion,
        }),
      );
      const won = expectOneWinner(results, 200, { status: 401, codes: ['ERR_CLIENT_ASSERTION_REPLAYED'] });
      expect(decodeUnverified(results[won]!.body.access_token).payload.client_id).toBe('assertion-racer');
      for (const [i, res] of results.entries()) {
        if (i !== won) expect(res.body.error).toBe('invalid_client');
      }
    });
  });
});
