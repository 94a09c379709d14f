/** End-to-end over real HTTP: register, login, whoami, refresh, logout, and the error contract around them. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { decodeUnverified } from '@jot/jose';

import { signUp, startServer, type TestServer } from './support/jot-server.js';

let server: TestServer;
beforeAll(async () => {
  server = await startServer();
});
afterAll(async () => {
  await server.close();
});

describe('register and login', () => {
  it('makes the first account an admin and later ones plain users', async () => {
    const first = await server.request('POST', '/api/register', {
      body: { email: 'Admin@Example.com', password: 'a long password' },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ email: 'Admin@Example.com', roles: ['admin'] });
    const second = await server.request('POST', '/api/register', {
      body: { email: 'user@example.com', password: 'a long password' },
    });
    expect(second.body.roles).toEqual([]);
  });

  it('refuses a taken email with 409 ERR_EMAIL_TAKEN', async () => {
    const again = await server.request('POST', '/api/register', {
      body: { email: 'USER@example.com', password: 'another password' },
    });
    expect(again.status).toBe(409);
    expect(again.body).toEqual({
      error: 'invalid_request',
      error_description: expect.any(String),
      code: 'ERR_EMAIL_TAKEN',
    });
  });

  it('refuses short passwords with ERR_WEAK_PASSWORD', async () => {
    const res = await server.request('POST', '/api/register', {
      body: { email: 'weak@example.com', password: 'short' },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('ERR_WEAK_PASSWORD');
  });

  it('issues an at+jwt access token with every claim, under 1 KB, and an opaque refresh token', async () => {
    const tokens = await signUp(server, 'claims@example.com');
    const { header, payload } = decodeUnverified(tokens.access_token);
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'ES256', kid: expect.any(String) });
    expect(payload).toMatchObject({
      iss: 'http://jot.test',
      sub: tokens.userId,
      aud: 'http://jot.test',
      sid: expect.any(String),
      jti: expect.any(String),
      ver: expect.any(Number),
      roles: [],
      auth_time: expect.any(Number),
    });
    expect((payload.exp as number) - (payload.iat as number)).toBe(15 * 60);
    expect(tokens.expires_in).toBe(900);
    expect(tokens.access_token.length).toBeLessThan(1024);
    expect(tokens.refresh_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers a wrong password and an unknown email identically', async () => {
    await signUp(server, 'known@example.com');
    const wrong = await server.request('POST', '/api/login', {
      body: { email: 'known@example.com', password: 'not the password' },
    });
    const unknown = await server.request('POST', '/api/login', {
      body: { email: 'nobody@example.com', password: 'not the password' },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.code).toBe('ERR_INVALID_CREDENTIALS');
  });

  it('sends token responses with Cache-Control: no-store', async () => {
    await server.request('POST', '/api/register', {
      body: { email: 'nostore@example.com', password: 'a long password' },
    });
    const res = await server.request('POST', '/api/login', {
      body: { email: 'nostore@example.com', password: 'a long password' },
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });
});

describe('whoami', () => {
  it('returns the verified claims and the current profile', async () => {
    const tokens = await signUp(server, 'whoami@example.com');
    const res = await server.request('GET', '/api/whoami', { token: tokens.access_token });
    expect(res.status).toBe(200);
    expect(res.body.claims.sub).toBe(tokens.userId);
    expect(res.body.user).toMatchObject({ email: 'whoami@example.com', status: 'active' });
  });

  it('answers a missing token with an RFC 6750 challenge without error code, offering DPoP too (RFC 9449 §7.1)', async () => {
    const res = await server.request('GET', '/api/whoami');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="jot", DPoP algs="ES256 ES384 ES512 EdDSA PS256 RS256"',
    );
    expect(res.body.code).toBe('ERR_AUTH_REQUIRED');
  });

  it('answers a tampered token with invalid_token and the JOSE code', async () => {
    const tokens = await signUp(server, 'tamper@example.com');
    const [h, p, s] = tokens.access_token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...decodeUnverified(tokens.access_token).payload, roles: ['admin'] })).toString('base64url')}.${s}`;
    const res = await server.request('GET', '/api/whoami', { token: forged });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_JWS_SIGNATURE_INVALID');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="jot", error="invalid_token", error_description="/,
    );
    expect(p).toBeDefined();
  });

  it('refuses an alg:none token', async () => {
    const tokens = await signUp(server, 'none@example.com');
    const [, p] = tokens.access_token.split('.');
    const none = `${Buffer.from('{"alg":"none","typ":"at+jwt"}').toString('base64url')}.${p}.`;
    const res = await server.request('GET', '/api/whoami', { token: none });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_JOSE_ALG_NOT_ALLOWED');
  });
});

describe('refresh and logout', () => {
  it('rotates the refresh token on every use', async () => {
    const tokens = await signUp(server, 'rotate@example.com');
    const first = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(first.status).toBe(200);
    expect(first.body.refresh_token).not.toBe(tokens.refresh_token);
    const second = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: first.body.refresh_token },
    });
    expect(second.status).toBe(200);
    // Rotation does not revoke access tokens already in flight.
    expect((await server.request('GET', '/api/whoami', { token: tokens.access_token })).status).toBe(200);
  });

  it('refuses an unknown refresh token with invalid_grant', async () => {
    const res = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: 'x'.repeat(43) },
    });
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_TOKEN_INVALID' });
  });

  it('logout ends the session: the access token and the refresh token stop working', async () => {
    const tokens = await signUp(server, 'logout@example.com');
    const out = await server.request('POST', '/api/logout', { token: tokens.access_token });
    expect(out.status).toBe(204);
    const who = await server.request('GET', '/api/whoami', { token: tokens.access_token });
    expect(who.status).toBe(401);
    // The logout revoked the token itself (jti) and its session: one code whoever checks (docs/errors.md).
    expect(who.body).toEqual({
      error: 'invalid_token',
      error_description: 'this access token has been revoked',
      code: 'ERR_TOKEN_REVOKED',
    });
    const refresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: tokens.refresh_token },
    });
    expect(refresh.status).toBe(401);
  });

  it('lists my sessions and ends another device', async () => {
    const phone = await signUp(server, 'devices@example.com');
    const laptop = await server.request('POST', '/api/login', {
      body: { email: 'devices@example.com', password: 'correct horse battery' },
      headers: { 'user-agent': 'laptop-browser' },
    });
    const list = await server.request('GET', '/api/sessions', { token: phone.access_token });
    expect(list.body.sessions).toHaveLength(2);
    const other = list.body.sessions.find((s: { current: boolean }) => !s.current);
    expect(other.user_agent).toBe('laptop-browser');
    expect(
      (await server.request('DELETE', `/api/sessions/${other.id}`, { token: phone.access_token })).status,
    ).toBe(204);
    expect((await server.request('GET', '/api/whoami', { token: laptop.body.access_token })).status).toBe(
      401,
    );
    expect((await server.request('GET', '/api/whoami', { token: phone.access_token })).status).toBe(200);
  });

  it("cannot end another user's session (404, same as unknown)", async () => {
    const a = await signUp(server, 'owner-a@example.com');
    const b = await signUp(server, 'owner-b@example.com');
    const sid = decodeUnverified(b.access_token).payload.sid as string;
    const res = await server.request('DELETE', `/api/sessions/${sid}`, { token: a.access_token });
    expect(res.status).toBe(404);
    expect((await server.request('GET', '/api/whoami', { token: b.access_token })).status).toBe(200);
  });
});

describe('password change', () => {
  it('requires the current password, ends other sessions and old tokens, keeps this session', async () => {
    const here = await signUp(server, 'pw@example.com');
    const elsewhere = await server.request('POST', '/api/login', {
      body: { email: 'pw@example.com', password: 'correct horse battery' },
    });
    const bad = await server.request('POST', '/api/password', {
      token: here.access_token,
      body: { current_password: 'wrong password', new_password: 'a brand new password' },
    });
    expect(bad.status).toBe(403);
    const ok = await server.request('POST', '/api/password', {
      token: here.access_token,
      body: { current_password: 'correct horse battery', new_password: 'a brand new password' },
    });
    expect(ok.status).toBe(200);
    expect((await server.request('GET', '/api/whoami', { token: here.access_token })).status).toBe(401);
    expect((await server.request('GET', '/api/whoami', { token: ok.body.access_token })).status).toBe(200);
    expect((await server.request('GET', '/api/whoami', { token: elsewhere.body.access_token })).status).toBe(
      401,
    );
    const elsewhereRefresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: elsewhere.body.refresh_token },
    });
    expect(elsewhereRefresh.status).toBe(401);
    // This device's refresh token is replaced too: a copy stolen before the change is dead.
    const oldRefresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: here.refresh_token },
    });
    expect(oldRefresh.status).toBe(401);
    expect(ok.body.refresh_token).toEqual(expect.any(String));
    const hereRefresh = await server.request('POST', '/api/token/refresh', {
      body: { refresh_token: ok.body.refresh_token },
    });
    expect(hereRefresh.status).toBe(200);
    const oldLogin = await server.request('POST', '/api/login', {
      body: { email: 'pw@example.com', password: 'correct horse battery' },
    });
    expect(oldLogin.status).toBe(401);
  });
});
