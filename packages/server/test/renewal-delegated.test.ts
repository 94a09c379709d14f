/**
 * Single-token renewal is for the user's own token only. A token from token exchange (RFC 8693) names the acting
 * service in `act`, carries the service as `client_id` and a narrower scope; when the service was registered for
 * the server's own audience, that token passes the server's verification — and a renewal of it must not hand the
 * service a full token of the user (the session's scope, no `act`, bound to the user's key or to none).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { signUp, startServer, type TestServer } from './support/jot-server.js';
import { dpopClient } from './support/dpop.js';
import { adminToken, freePort, postForm, registerClient, startIssuer } from './support/oauth.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

let server: TestServer;
let admin: string;

beforeAll(async () => {
  server = await startIssuer({
    tokenMode: 'single',
    revocationSecret: 'r'.repeat(40),
    roleScopes: '*=profile orders:read orders:write',
    rateLimitAuth: '100000/min',
  });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

describe('renewal of a delegated token', () => {
  it('refuses a token-exchange token (act) with 403 ERR_FORBIDDEN, and the user can still renew their own', async () => {
    const own = decodeUnverified(admin).payload as { aud: string | string[] };
    const audience = Array.isArray(own.aud) ? own.aud[0]! : own.aud;
    const { client, client_secret } = await registerClient(server, admin, {
      client_id: 'self-gateway',
      name: 'Gateway to the auth server itself',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: [EXCHANGE],
      scopes: ['orders:read'],
      audiences: [audience],
    });
    const user = await signUp(server, 'delegated@example.com');
    const exchanged = await postForm(server, '/oauth/token', {
      grant_type: EXCHANGE,
      subject_token: user.access_token,
      subject_token_type: AT,
      scope: 'orders:read',
      client_id: client.client_id,
      client_secret: client_secret!,
    });
    expect(exchanged.status).toBe(200);
    const delegated = exchanged.body.access_token as string;
    expect(decodeUnverified(delegated).payload).toMatchObject({
      act: { sub: 'self-gateway' },
      scope: 'orders:read',
    });

    const renewed = await server.request('POST', '/api/token/renew', { token: delegated });
    expect(renewed.status).toBe(403);
    expect(renewed.body.code).toBe('ERR_FORBIDDEN');
    expect(renewed.body.access_token).toBeUndefined();

    // The refusal did not end or spend the user's session: their own token renews.
    const mine = await server.request('POST', '/api/token/renew', { token: user.access_token });
    expect(mine.status).toBe(200);
    expect(decodeUnverified(mine.body.access_token as string).payload).not.toHaveProperty('act');
  });
});

describe("a dead token and the account's renewal budget", () => {
  it("a logged-out session's token, renewed over and over, spends nothing of the account's budget", async () => {
    const limited = await startIssuer({
      tokenMode: 'single',
      revocationSecret: 'r'.repeat(40),
      rateLimitAuth: '100000/min',
      rateLimitRenew: '3/1min',
    });
    try {
      const stolen = await signUp(limited, 'budget@example.com');
      const login = await limited.request('POST', '/api/login', {
        body: { email: 'budget@example.com', password: 'correct horse battery' },
      });
      const mine = login.body.access_token as string;
      expect((await limited.request('POST', '/api/logout', { token: stolen.access_token })).status).toBe(204);
      for (let i = 0; i < 5; i++) {
        const res = await limited.request('POST', '/api/token/renew', { token: stolen.access_token });
        expect(res.status).not.toBe(200);
      }
      // The user's live session renews early (a revoking renewal) as if nothing had happened.
      const renewed = await limited.request('POST', '/api/token/renew', { token: mine });
      expect(renewed.status).toBe(200);
    } finally {
      await limited.close();
    }
  });
});

describe("a delegated token on the server's own routes", () => {
  it('is refused (403 ERR_FORBIDDEN) when JOT_AUDIENCE shares an audience a service may exchange tokens for', async () => {
    // A deployment whose API accepts the users' tokens too: JOT_AUDIENCE lists the server and the API.
    const api = 'https://api.example.com';
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const both = await startServer({
      port,
      issuer,
      audience: `${issuer},${api}`,
      rateLimitAuth: '100000/min',
    });
    try {
      const root = await adminToken(both, 'root@example.com');
      const { client, client_secret } = await registerClient(both, root, {
        client_id: 'api-gateway',
        name: 'API gateway',
        token_endpoint_auth_method: 'client_secret_post',
        grant_types: [EXCHANGE],
        scopes: ['profile'],
        audiences: [api],
      });
      const exchange = async (subject: string) => {
        const res = await postForm(both, '/oauth/token', {
          grant_type: EXCHANGE,
          subject_token: subject,
          subject_token_type: AT,
          audience: api,
          client_id: client.client_id,
          client_secret: client_secret!,
        });
        expect(res.status).toBe(200);
        return res.body.access_token as string;
      };
      const user = await signUp(both, 'victim@example.com');
      const delegated = await exchange(user.access_token);
      for (const [method, path] of [
        ['GET', '/api/whoami'],
        ['GET', '/api/sessions'],
        ['POST', '/api/logout-all'],
      ] as const) {
        const res = await both.request(method, path, { token: delegated });
        expect(res.status, `${method} ${path}`).toBe(403);
        expect(res.body.code).toBe('ERR_FORBIDDEN');
      }
      // The admin's delegated token reaches no admin route, nor the revocation feed. An exchange no longer hands
      // on the roles; a delegated token that still carries the admin role — as exchanges issued before that did,
      // alive for JOT_EXCHANGED_TOKEN_TTL after an upgrade — is refused for its `act` alone.
      const adminDelegated = await exchange(root);
      expect(decodeUnverified(adminDelegated).payload).toMatchObject({ roles: [] });
      const rootClaims = decodeUnverified(root).payload as { sub: string; sid: string; ver: number };
      const withRole = await both.app.jot.tokens.issue({
        userId: rootClaims.sub,
        sessionId: rootClaims.sid,
        tokenVersion: rootClaims.ver,
        authTime: Date.now(),
        roles: ['admin'],
        clientId: client.client_id,
        audience: api,
        ttlSeconds: 300,
        act: { sub: client.client_id },
      });
      for (const token of [adminDelegated, withRole.token]) {
        const users = await both.request('GET', '/api/admin/users', { token });
        expect(users.status).toBe(403);
        expect(users.body.code).toBe('ERR_FORBIDDEN');
        expect((await both.request('GET', '/api/revocations', { token })).status).toBe(401);
      }
      // The users' own tokens are untouched.
      expect((await both.request('GET', '/api/sessions', { token: user.access_token })).status).toBe(200);
      expect((await both.request('GET', '/api/admin/users', { token: root })).status).toBe(200);
      expect((await both.request('GET', '/api/revocations', { token: root })).status).toBe(200);
    } finally {
      await both.close();
    }
  });
});

describe('renewal of a DPoP-bound or cookie token', () => {
  it('a bound token renews only with a proof from its key, into a successor bound to the same key', async () => {
    const bound = await startServer({ tokenMode: 'single', rateLimitAuth: '100000/min' });
    try {
      await bound.request('POST', '/api/register', {
        body: { email: 'dpop-renew@example.com', password: 'correct horse battery' },
      });
      const owner = dpopClient(bound);
      const login = await owner.request('POST', '/api/login', {
        body: { email: 'dpop-renew@example.com', password: 'correct horse battery' },
      });
      expect(login.status).toBe(200);
      const token = login.body.access_token as string;
      // A thief with the token but not the key: as Bearer, or with a proof from another key.
      const asBearer = await bound.request('POST', '/api/token/renew', { token });
      expect(asBearer.status).toBe(401);
      expect(asBearer.body.code).toBe('ERR_DPOP_REQUIRED');
      const thief = await dpopClient(bound).request('POST', '/api/token/renew', { token });
      expect(thief.status).toBe(401);
      expect(thief.body.code).toBe('ERR_DPOP_KEY_MISMATCH');
      // The owner renews; the successor is bound to the owner's key.
      const renewed = await owner.request('POST', '/api/token/renew', { token });
      expect(renewed.status).toBe(200);
      expect(renewed.body.token_type).toBe('DPoP');
      expect(decodeUnverified(renewed.body.access_token as string).payload.cnf).toEqual({
        jkt: owner.key.thumbprint(),
      });
    } finally {
      await bound.close();
    }
  });

  it('a cookie renewal needs the X-Csrf-Token of the session (403 ERR_CSRF)', async () => {
    const cookies = await startServer({ tokenMode: 'single', rateLimitAuth: '100000/min' });
    try {
      await cookies.request('POST', '/api/register', {
        body: { email: 'cookie-renew@example.com', password: 'correct horse battery' },
      });
      const login = await cookies.request('POST', '/api/login', {
        body: { email: 'cookie-renew@example.com', password: 'correct horse battery', delivery: 'cookie' },
      });
      expect(login.status).toBe(200);
      const jar = (login.headers.getSetCookie?.() ?? []).map((c) => c.split(';')[0]).join('; ');
      expect(jar).toMatch(/jot_at=/);
      const csrf = login.body.csrf_token as string;
      const forged = await cookies.request('POST', '/api/token/renew', { headers: { cookie: jar } });
      expect(forged.status).toBe(403);
      expect(forged.body.code).toBe('ERR_CSRF');
      // A cross-site form's text/plain body is refused too, never renewed.
      const plain = await cookies.request('POST', '/api/token/renew', {
        headers: { cookie: jar },
        contentType: 'text/plain',
        raw: 'x',
      });
      expect([403, 415]).toContain(plain.status);
      const wrong = await cookies.request('POST', '/api/token/renew', {
        headers: { cookie: jar, 'x-csrf-token': `${csrf}x` },
      });
      expect(wrong.status).toBe(403);
      const ok = await cookies.request('POST', '/api/token/renew', {
        headers: { cookie: jar, 'x-csrf-token': csrf },
      });
      expect(ok.status).toBe(200);
    } finally {
      await cookies.close();
    }
  });
});
