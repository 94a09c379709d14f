/**
 * One behavioural suite, run against every adapter (Express, Fastify, Hono, node:http): the same requests must
 * get the same answers, including the RFC 6750 / RFC 9470 challenges and every kind of revocation.
 */
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type OutgoingHttpHeaders } from 'node:http';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { createVerifier, type Verifier } from '../src/index.js';
import { ADAPTERS, type Mounted } from './support/adapters.js';
import {
  AUDIENCE,
  csrfHash,
  SECRET,
  startFakeIssuer,
  type FakeIssuer,
} from '../../../test-support/fake-issuer.js';
import { recordingLogger, waitFor } from './support/wait.js';

const unique = (prefix: string): string => `${prefix}-${randomBytes(6).toString('hex')}`;

describe.each(ADAPTERS)('%s adapter', (_name, mount) => {
  let issuer: FakeIssuer;
  let verifier: Verifier;
  let app: Mounted;

  beforeAll(async () => {
    issuer = await startFakeIssuer();
    verifier = createVerifier({
      issuer: issuer.url,
      audience: AUDIENCE,
      revocation: {
        strategy: 'replicated',
        secret: SECRET,
        maxStaleness: '10s',
        reconnectDelay: { min: '20ms', max: '100ms' },
      },
      cookies: ['__Host-jot_at', 'jot_at'],
      logger: recordingLogger(),
    });
    await verifier.ready();
    await waitFor(() => verifier.stats().revocation.connected === true, 2000, 'stream connected');
    app = await mount(verifier);
  });

  afterAll(async () => {
    await app?.close();
    await verifier?.close();
    await issuer?.close();
  });

  async function call(path: string, init: RequestInit & { token?: string } = {}) {
    const headers = new Headers(init.headers);
    if (init.token !== undefined) headers.set('authorization', `Bearer ${init.token}`);
    const res = await fetch(app.url + path, { ...init, headers });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
  }

  /** Revokes through the feed and waits until the verifier has applied it. */
  async function revoke(kind: 'jti' | 'sid' | 'user', subject: string, data?: Record<string, unknown>) {
    const before = verifier.stats().revocation.events ?? 0;
    issuer.feed.revoke(kind, subject, data);
    await waitFor(() => (verifier.stats().revocation.events ?? 0) > before, 2000, 'revocation applied');
  }

  it('accepts a valid bearer token and exposes its claims as auth', async () => {
    const res = await call('/me', { token: issuer.tokens.sign({ sub: 'alice' }) });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'alice', via: 'bearer', path: '/me' });
  });

  it('answers 401 with a bare Bearer challenge when no token is sent (RFC 6750 §3.1)', async () => {
    const res = await call('/me');
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="jot"');
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'this endpoint requires an access token',
      code: 'ERR_AUTH_REQUIRED',
    });
  });

  it('treats an Authorization header of another scheme as no credentials (RFC 6750 §3.1), never falling back to the cookie', async () => {
    const res = await call('/me', {
      headers: { authorization: 'Basic YWxpY2U6c2VjcmV0', cookie: `jot_at=${issuer.tokens.sign()}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="jot"');
    expect(res.body).toEqual({
      error: 'invalid_request',
      error_description: 'this endpoint accepts only "Authorization: Bearer <token>" or "DPoP <token>"',
      code: 'ERR_AUTH_REQUIRED',
    });
  });

  it.each([
    ['no token', 'Bearer'],
    ['two tokens', 'Bearer abc def'],
    ['a character outside token68', 'Bearer abc"def'],
    ['a parameter instead of a token', 'Bearer token=abc,x=y'],
  ])(
    'refuses a Bearer header with %s as 400 invalid_request (RFC 6750 §3.1), never falling back to the cookie',
    async (_case, authorization) => {
      const res = await call('/me', { headers: { authorization, cookie: `jot_at=${issuer.tokens.sign()}` } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({
        error: 'invalid_request',
        error_description: 'the Authorization header must be "Bearer <token>" with exactly one token',
        code: 'ERR_AUTH_MALFORMED',
      });
      expect(res.headers.get('www-authenticate')).toBe(
        // RFC 6750 §3: a quoted parameter cannot hold a double quote, so the description loses them.
        'Bearer realm="jot", error="invalid_request", error_description="the Authorization header must be Bearer <token> with exactly one token"',
      );
    },
  );

  /** A GET whose `authorization` lines go out separately (`fetch` would join them into one line). */
  function sendLines(path: string, authorization: string[]): Promise<{ status: number; body: any }> {
    return new Promise((resolve, reject) => {
      // An array value goes out as one line per element (the type says string only).
      const headers = { authorization } as unknown as OutgoingHttpHeaders;
      const req = httpRequest(app.url + path, { headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('refuses two Authorization lines (a singleton field, RFC 9110 §5.3) as 400 ERR_AUTH_MALFORMED, whichever comes first', async () => {
    const token = issuer.tokens.sign({ sub: 'alice' });
    const validFirst = await sendLines('/me', [`Bearer ${token}`, 'Bearer garbage']);
    expect(validFirst.status).toBe(400);
    expect(validFirst.body.code).toBe('ERR_AUTH_MALFORMED');
    const otherSchemeFirst = await sendLines('/me', ['Basic YWxpY2U6c2VjcmV0', `Bearer ${token}`]);
    if (_name === 'hono') {
      // A Web Request joins the lines into one value ("Basic …, Bearer …"): another scheme, so no credentials —
      // refused, though as 401 ERR_AUTH_REQUIRED (the limit docs/verify.md states).
      expect(otherSchemeFirst.status).toBe(401);
      expect(otherSchemeFirst.body.code).toBe('ERR_AUTH_REQUIRED');
    } else {
      expect(otherSchemeFirst.status).toBe(400);
      expect(otherSchemeFirst.body).toEqual({
        error: 'invalid_request',
        error_description: 'send one Authorization header: this request has 2 (RFC 9110 section 5.3)',
        code: 'ERR_AUTH_MALFORMED',
      });
    }
  });

  it('passes JOSE codes through for a bad token, with an invalid_token challenge', async () => {
    const expired = issuer.tokens.sign({ iat: 1_700_000_000, exp: 1_700_000_100, auth_time: 1_700_000_000 });
    const res = await call('/me', { token: expired });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_JWT_EXPIRED');
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="jot", error="invalid_token", error_description="[^"]+"$/,
    );
    const wrongTyp = await call('/me', { token: issuer.tokens.sign({}, { typ: 'JWT' }) });
    expect(wrongTyp.body.code).toBe('ERR_JWT_CLAIM_INVALID');
    const noSid = await call('/me', { token: issuer.tokens.sign({ sid: undefined }) });
    expect(noSid.body.code).toBe('ERR_JWT_CLAIM_INVALID');
  });

  it('rejects a token whose jti was revoked', async () => {
    const jti = unique('jti');
    const token = issuer.tokens.sign({ jti });
    expect((await call('/me', { token })).status).toBe(200);
    await revoke('jti', jti);
    const res = await call('/me', { token });
    expect(res.status).toBe(401);
    expect(res.body.code).toBe('ERR_TOKEN_REVOKED');
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
  });

  it('rejects a token whose session was ended (logout)', async () => {
    const sid = unique('sid');
    const token = issuer.tokens.sign({ sid });
    expect((await call('/me', { token })).status).toBe(200);
    await revoke('sid', sid);
    expect((await call('/me', { token })).body).toEqual({
      error: 'invalid_token',
      error_description: 'the session has ended; sign in again',
      code: 'ERR_TOKEN_REVOKED',
    });
  });

  it('rejects tokens issued up to a per-user cut-off (logout everywhere), not later ones', async () => {
    const sub = unique('user');
    const now = Math.floor(Date.now() / 1000);
    const old = issuer.tokens.sign({ sub, iat: now - 10 });
    await revoke('user', sub, { valid_after: now - 5, ver: 1, status: 'active' });
    expect((await call('/me', { token: old })).body.code).toBe('ERR_TOKEN_REVOKED');
    expect((await call('/me', { token: issuer.tokens.sign({ sub, iat: now }) })).status).toBe(200);
  });

  it('rejects tokens carrying an old token version', async () => {
    const sub = unique('user');
    const token = issuer.tokens.sign({ sub, ver: 1 });
    await revoke('user', sub, { valid_after: 0, ver: 2, status: 'active' });
    const res = await call('/me', { token });
    expect(res.body.code).toBe('ERR_TOKEN_REVOKED');
    expect((await call('/me', { token: issuer.tokens.sign({ sub, ver: 2 }) })).status).toBe(200);
  });

  it('rejects every token of a disabled user', async () => {
    const sub = unique('user');
    await revoke('user', sub, { valid_after: 0, ver: 1, status: 'disabled' });
    expect((await call('/me', { token: issuer.tokens.sign({ sub }) })).body).toMatchObject({
      error_description: 'this account is disabled',
      code: 'ERR_TOKEN_REVOKED',
    });
  });

  it('reads the access cookie and enforces the CSRF header on mutating requests only', async () => {
    const csrf = randomBytes(16).toString('base64url');
    const token = issuer.tokens.sign({ cth: csrfHash(csrf) });
    const cookie = `other=1; __Host-jot_at=${token}`;
    const get = await call('/me', { headers: { cookie } });
    expect(get.status).toBe(200);
    expect(get.body.via).toBe('cookie');
    const missing = await call('/orders', { method: 'POST', headers: { cookie } });
    expect(missing.status).toBe(403);
    expect(missing.body.code).toBe('ERR_CSRF');
    const wrong = await call('/orders', { method: 'POST', headers: { cookie, 'x-csrf-token': 'nope' } });
    expect(wrong.body.code).toBe('ERR_CSRF');
    const right = await call('/orders', { method: 'POST', headers: { cookie, 'x-csrf-token': csrf } });
    expect(right.status).toBe(200);
    // A cookie token not bound to a CSRF token can never make a mutating request.
    const unbound = await call('/orders', {
      method: 'POST',
      headers: { cookie: `jot_at=${issuer.tokens.sign()}`, 'x-csrf-token': csrf },
    });
    expect(unbound.body.code).toBe('ERR_CSRF');
    // Bearer requests are not subject to CSRF.
    expect((await call('/orders', { method: 'POST', token: issuer.tokens.sign() })).status).toBe(200);
  });

  it('answers 403 insufficient_scope for a missing role or scope', async () => {
    const role = await call('/admin', { token: issuer.tokens.sign({ roles: ['user'] }) });
    expect(role.status).toBe(403);
    expect(role.body).toMatchObject({ error: 'insufficient_scope', code: 'ERR_FORBIDDEN' });
    expect((await call('/admin', { token: issuer.tokens.sign({ roles: ['user', 'admin'] }) })).status).toBe(
      200,
    );
    const scope = await call('/scoped', { token: issuer.tokens.sign({ scope: 'orders:read' }) });
    expect(scope.status).toBe(403);
    expect(scope.body.code).toBe('ERR_FORBIDDEN');
    expect(scope.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="orders:write"/);
    expect(
      (await call('/scoped', { token: issuer.tokens.sign({ scope: 'orders:read orders:write' }) })).status,
    ).toBe(200);
  });

  it('answers an RFC 9470 step-up challenge when auth_time is older than maxAuthAge', async () => {
    const now = Math.floor(Date.now() / 1000);
    const res = await call('/sensitive', { token: issuer.tokens.sign({ auth_time: now - 3600 }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(
      'Bearer realm="jot", error="insufficient_user_authentication", error_description="this request needs an authentication within the last 60 seconds", max_age="60"',
    );
    expect(res.body).toEqual({
      error: 'insufficient_user_authentication',
      error_description: 'this request needs an authentication within the last 60 seconds',
      code: 'ERR_STEP_UP_REQUIRED',
    });
    expect((await call('/sensitive', { token: issuer.tokens.sign({ auth_time: now - 5 }) })).status).toBe(
      200,
    );
  });
});
