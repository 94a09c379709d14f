/**
 * The OAuth endpoints' rules beyond the happy path: token exchange narrows scope and audience and refuses widening,
 * and its token dies with the user's session; RFC 7009 revocation ends sessions, revokes access tokens, answers
 * 200 for unknown tokens and refuses other clients' tokens; RFC 6749 §5.2 errors for malformed requests; client
 * removal kills the client's tokens; registry validation; the registry's events name the acting admin session.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { signUp, type TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';
import { keyPair } from '../../../test-support/key-pair.js';

const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

let server: TestServer;
let admin: string;
const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
});

async function secretClient(
  body: Record<string, unknown>,
): Promise<{ id: string; headers: Record<string, string> }> {
  const { client, client_secret } = await registerClient(server, admin, {
    token_endpoint_auth_method: 'client_secret_basic',
    ...body,
  });
  return { id: client.client_id, headers: basic(client.client_id, client_secret!) };
}

function claimsOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
}

beforeAll(async () => {
  server = await startIssuer({ roleScopes: '*=profile orders:read orders:write' });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

describe('token exchange (RFC 8693)', () => {
  let svc: { id: string; headers: Record<string, string> };
  beforeAll(async () => {
    svc = await secretClient({
      client_id: 'gateway',
      name: 'Gateway',
      grant_types: [EXCHANGE, 'client_credentials'],
      scopes: ['orders:read', 'orders:write', 'admin'],
      audiences: ['https://orders.internal', 'https://billing.internal'],
    });
  });

  function exchange(subject: string, extra: Record<string, string> = {}, headers = svc.headers) {
    return postForm(
      server,
      '/oauth/token',
      { grant_type: EXCHANGE, subject_token: subject, subject_token_type: AT, ...extra },
      headers,
    );
  }

  it('narrows scope to what both the user token and the client have, and to one audience', async () => {
    const user = await signUp(server, 'narrow@example.com');
    const all = await exchange(user.access_token, { audience: 'https://billing.internal' });
    expect(all.status).toBe(200);
    expect(all.body.scope).toBe('orders:read orders:write'); // "profile" is the user's, not the client's
    const narrow = await exchange(user.access_token, {
      scope: 'orders:read',
      resource: 'https://orders.internal',
    });
    expect(narrow.body).toMatchObject({ scope: 'orders:read', issued_token_type: AT, token_type: 'Bearer' });
    const claims = claimsOf(narrow.body.access_token);
    expect(claims).toMatchObject({
      aud: 'https://orders.internal',
      act: { sub: 'gateway' },
      client_id: 'gateway',
      scope: 'orders:read',
    });
    expect(claims.sub).toBe(user.userId);
  });

  it('refuses widening the scope or reaching an unregistered audience', async () => {
    const user = await signUp(server, 'widen@example.com');
    for (const scope of ['admin', 'profile', 'orders:read secret']) {
      const res = await exchange(user.access_token, { scope });
      expect({ status: res.status, error: res.body.error, code: res.body.code }).toEqual({
        status: 400,
        error: 'invalid_scope',
        code: 'ERR_SCOPE_WIDENED',
      });
    }
    const target = await exchange(user.access_token, { audience: 'https://evil.example' });
    expect(target.status).toBe(400);
    expect(target.body).toMatchObject({ error: 'invalid_target', code: 'ERR_INVALID_TARGET' });
    // Re-exchanging the narrowed token cannot widen it back either.
    const narrow = await exchange(user.access_token, { scope: 'orders:read' });
    const again = await exchange(narrow.body.access_token, { scope: 'orders:write' });
    expect(again.body).toMatchObject({ error: 'invalid_scope' });
    const chained = await exchange(narrow.body.access_token);
    expect(claimsOf(chained.body.access_token).act).toEqual({ sub: 'gateway', act: { sub: 'gateway' } });
  });

  it('dies with the user session', async () => {
    const user = await signUp(server, 'session@example.com');
    const exchanged = (await exchange(user.access_token)).body.access_token as string;
    const introspect = () => postForm(server, '/oauth/introspect', { token: exchanged }, svc.headers);
    expect((await introspect()).body).toMatchObject({
      active: true,
      sub: user.userId,
      act: { sub: 'gateway' },
    });
    expect((await server.request('POST', '/api/logout', { token: user.access_token })).status).toBe(204);
    expect((await introspect()).body).toEqual({ active: false });
    // …and a dead subject token cannot be exchanged again (logout revoked its jti and its session).
    const res = await exchange(user.access_token);
    expect(res.status).toBe(400);
    // RFC 8693 §2.2.2: an invalid or unacceptable subject_token is invalid_request.
    expect(res.body).toMatchObject({ error: 'invalid_request', code: 'ERR_TOKEN_REVOKED' });
  });

  it('refuses subject tokens that are not live user tokens, and bad parameters', async () => {
    const own = await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, svc.headers);
    const asSubject = await exchange(own.body.access_token);
    expect(asSubject.body).toMatchObject({ error: 'invalid_request', code: 'ERR_EXCHANGE_SUBJECT' });
    const garbage = await exchange('a.b.c');
    expect(garbage.status).toBe(400);
    expect(garbage.body.error).toBe('invalid_request');
    const user = await signUp(server, 'params@example.com');
    const wrongType = await exchange(user.access_token, {
      subject_token_type: 'urn:ietf:params:oauth:token-type:id_token',
    });
    expect(wrongType.body).toMatchObject({ error: 'invalid_request' });
    const actor = await exchange(user.access_token, {
      actor_token: own.body.access_token,
      actor_token_type: AT,
    });
    expect(actor.body).toMatchObject({ error: 'invalid_request' });
  });

  it('is refused to a client not registered for it', async () => {
    const other = await secretClient({ name: 'No exchange', audiences: ['https://orders.internal'] });
    const user = await signUp(server, 'unauthorized@example.com');
    const res = await exchange(user.access_token, {}, other.headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'unauthorized_client', code: 'ERR_GRANT_NOT_ALLOWED' });
  });
});

describe('revocation (RFC 7009)', () => {
  it('a refresh token revoked by its client ends the session', async () => {
    const user = await signUp(server, 'rt@example.com');
    const res = await postForm(server, '/oauth/revoke', {
      token: user.refresh_token,
      token_type_hint: 'refresh_token',
      client_id: 'jot',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const whoami = await server.request('GET', '/api/whoami', { token: user.access_token });
    expect(whoami.status).toBe(401);
    expect(whoami.body).toMatchObject({
      code: 'ERR_TOKEN_REVOKED',
      error_description: 'the session has ended; sign in again',
    });
    const refresh = await postForm(server, '/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
      client_id: 'jot',
    });
    expect(refresh.status).toBe(400);
    expect(refresh.body.error).toBe('invalid_grant');
  });

  it("an access token revoked by its client stops working; the session's other tokens do not", async () => {
    const user = await signUp(server, 'at@example.com');
    expect(
      (await postForm(server, '/oauth/revoke', { token: user.access_token, client_id: 'jot' })).status,
    ).toBe(200);
    expect((await server.request('GET', '/api/whoami', { token: user.access_token })).body.code).toBe(
      'ERR_TOKEN_REVOKED',
    );
    const refreshed = await postForm(server, '/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
      client_id: 'jot',
    });
    expect(refreshed.status).toBe(200);
  });

  it('answers 200 for unknown tokens, and refuses tokens of another client', async () => {
    for (const token of ['unknown', 'a.b.c', 'x'.repeat(600)]) {
      expect((await postForm(server, '/oauth/revoke', { token, client_id: 'jot' })).status).toBe(200);
    }
    const user = await signUp(server, 'other@example.com');
    const other = await secretClient({ name: 'Other', audiences: ['https://orders.internal'] });
    const res = await postForm(server, '/oauth/revoke', { token: user.refresh_token }, other.headers);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'unauthorized_client', code: 'ERR_TOKEN_NOT_YOURS' });
    expect((await server.request('GET', '/api/whoami', { token: user.access_token })).status).toBe(200);
  });

  it('requires client authentication', async () => {
    const res = await postForm(server, '/oauth/revoke', { token: 'whatever' });
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    expect(res.headers.get('www-authenticate')).toMatch(/^Basic /);
  });
});

describe('token endpoint errors (RFC 6749 §5.2)', () => {
  it('refuses JSON, repeated parameters, unknown grants and missing client authentication', async () => {
    const json = await server.request('POST', '/oauth/token', { body: { grant_type: 'client_credentials' } });
    expect(json.status).toBe(400);
    expect(json.body).toMatchObject({ error: 'invalid_request', code: 'ERR_OAUTH_REQUEST' });
    const twice = await server.request('POST', '/oauth/token', {
      raw: 'grant_type=refresh_token&grant_type=client_credentials&client_id=jot',
      contentType: 'application/x-www-form-urlencoded',
    });
    expect(twice.body).toMatchObject({ error: 'invalid_request', code: 'ERR_OAUTH_REQUEST' });
    const unknown = await postForm(server, '/oauth/token', { grant_type: 'password', client_id: 'jot' });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ error: 'unsupported_grant_type', code: 'ERR_GRANT_UNSUPPORTED' });
    const anonymous = await postForm(server, '/oauth/token', { grant_type: 'client_credentials' });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Basic realm="jot"/);
    const publicCc = await postForm(server, '/oauth/token', {
      grant_type: 'client_credentials',
      client_id: 'jot',
    });
    expect(publicCc.body).toMatchObject({ error: 'unauthorized_client' });
    for (const res of [json, twice, unknown, anonymous])
      expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps error_description to the characters RFC 6749 §5.2 allows (no double quote, nothing beyond ASCII)', async () => {
    const allowed = /^[\x20-\x21\x23-\x5b\x5d-\x7e]*$/;
    const answers = [
      await postForm(server, '/oauth/token', { grant_type: 'password', client_id: 'jot' }),
      await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }),
      await postForm(server, '/oauth/revoke', { client_id: 'jot' }),
      await postForm(server, '/oauth/introspect', { client_id: 'jot' }),
    ];
    for (const res of answers) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.body.error_description).toMatch(allowed);
    }
    expect(answers[0]!.body.error_description).toBe("the grant type 'password' is not supported");
    expect(answers[1]!.body.error_description).toContain('RFC 6749 section 2.3');
  });

  it('treats a parameter sent without a value as omitted, so it is no repetition (RFC 6749 §3.1)', async () => {
    const { headers } = await secretClient({
      name: 'Empty parameters',
      grant_types: ['client_credentials'],
      audiences: ['https://orders.internal'],
    });
    const res = await server.request('POST', '/oauth/token', {
      raw: 'grant_type=&grant_type=client_credentials&scope=',
      contentType: 'application/x-www-form-urlencoded',
      headers,
    });
    expect(res.status).toBe(200);
    expect(res.body.token_type).toBe('Bearer');
  });

  it('refuses a public client introspecting an access token (RFC 7662 §2.1), not its own refresh token', async () => {
    const user = await signUp(server, 'public-introspect@example.com');
    const access = await postForm(server, '/oauth/introspect', {
      token: user.access_token,
      client_id: 'jot',
    });
    expect(access.status).toBe(401);
    expect(access.body).toMatchObject({ error: 'invalid_client', code: 'ERR_CLIENT_AUTH_FAILED' });
    const refresh = await postForm(server, '/oauth/introspect', {
      token: user.refresh_token,
      client_id: 'jot',
    });
    expect(refresh.body).toMatchObject({ active: true, client_id: 'jot' });
  });

  it('a refresh token does not work for another client, and is not spent by the attempt', async () => {
    const user = await signUp(server, 'bound@example.com');
    const other = await secretClient({
      name: 'Thief',
      grant_types: ['refresh_token', 'client_credentials'],
      audiences: ['https://x.internal'],
    });
    const stolen = await postForm(
      server,
      '/oauth/token',
      { grant_type: 'refresh_token', refresh_token: user.refresh_token },
      other.headers,
    );
    expect(stolen.status).toBe(400);
    expect(stolen.body.error).toBe('invalid_grant');
    const own = await postForm(server, '/oauth/token', {
      grant_type: 'refresh_token',
      refresh_token: user.refresh_token,
      client_id: 'jot',
    });
    expect(own.status).toBe(200);
  });

  it('issues client tokens only for registered audiences and scopes', async () => {
    const svc = await secretClient({
      name: 'Scoped',
      scopes: ['a', 'b'],
      audiences: ['https://one.internal', 'https://two.internal'],
    });
    const cc = (extra: Record<string, string>) =>
      postForm(server, '/oauth/token', { grant_type: 'client_credentials', ...extra }, svc.headers);
    expect((await cc({ scope: 'c' })).body).toMatchObject({
      error: 'invalid_scope',
      code: 'ERR_SCOPE_WIDENED',
    });
    for (const scope of ['a"b', '  ', 'a\\b'])
      expect({ scope, ...(await cc({ scope })).body }).toMatchObject({
        scope,
        error: 'invalid_scope',
        code: 'ERR_SCOPE_INVALID',
      });
    expect((await cc({ resource: 'https://three.internal' })).body).toMatchObject({
      error: 'invalid_target',
    });
    const both = await server.request('POST', '/oauth/token', {
      raw: 'grant_type=client_credentials&resource=https%3A%2F%2Fone.internal&resource=https%3A%2F%2Ftwo.internal&scope=a',
      contentType: 'application/x-www-form-urlencoded',
      headers: svc.headers,
    });
    expect(both.status).toBe(200);
    expect(claimsOf(both.body.access_token)).toMatchObject({
      aud: ['https://one.internal', 'https://two.internal'],
      scope: 'a',
    });
  });
});

describe('client registry', () => {
  it('removing a client kills its tokens here and publishes a feed entry for resource servers', async () => {
    const svc = await secretClient({ name: 'Short-lived', audiences: ['https://orders.internal'] });
    const token = (await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, svc.headers))
      .body.access_token as string;
    // A resource server authenticating as a client: it introspects other clients' tokens (`any`).
    const inspector = await secretClient({
      name: 'Inspector',
      audiences: ['https://orders.internal'],
      introspection: 'any',
    });
    const introspect = () => postForm(server, '/oauth/introspect', { token }, inspector.headers);
    expect((await introspect()).body).toMatchObject({
      active: true,
      client_id: svc.id,
      sub: svc.id,
      token_type: 'Bearer',
    });
    expect((await server.request('DELETE', `/api/admin/clients/${svc.id}`, { token: admin })).status).toBe(
      204,
    );
    expect((await introspect()).body).toEqual({ active: false });
    const again = await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, svc.headers);
    expect(again.status).toBe(401);
    const feed = await server.app.jot.store.listRevocationsSince(undefined, 1000);
    expect(feed.entries.some((e) => e.kind === 'user' && e.subject === svc.id)).toBe(true);
  });

  it('validates registrations and protects the first-party client', async () => {
    const bad: Record<string, unknown>[] = [
      { name: 'x', token_endpoint_auth_method: 'private_key_jwt' },
      {
        name: 'x',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ kty: 'oct', k: 'c2VjcmV0' }] },
        audiences: ['https://a.b'],
      },
      { name: 'x', token_endpoint_auth_method: 'client_secret_basic' },
      {
        name: 'x',
        token_endpoint_auth_method: 'none',
        grant_types: ['client_credentials'],
        audiences: ['https://a.b'],
      },
      {
        name: 'x',
        token_endpoint_auth_method: 'client_secret_basic',
        client_id: '123e4567-e89b-12d3-a456-426614174000',
        audiences: ['https://a.b'],
      },
      {
        name: 'x',
        token_endpoint_auth_method: 'client_secret_basic',
        scopes: ['a"b'],
        audiences: ['https://a.b'],
      },
    ];
    for (const body of bad) {
      const res = await server.request('POST', '/api/admin/clients', { token: admin, body });
      expect({ body, status: res.status, code: res.body.code }).toMatchObject({
        status: 400,
        code: 'ERR_CLIENT_INVALID',
      });
    }
    const dup = await server.request('POST', '/api/admin/clients', {
      token: admin,
      body: {
        client_id: 'gateway',
        name: 'dup',
        token_endpoint_auth_method: 'client_secret_basic',
        audiences: ['https://a.b'],
      },
    });
    expect(dup.status).toBe(409);
    expect(dup.body).toMatchObject({ error: 'invalid_client_metadata', code: 'ERR_CLIENT_EXISTS' });
    expect((await server.request('DELETE', '/api/admin/clients/jot', { token: admin })).body.code).toBe(
      'ERR_CLIENT_PROTECTED',
    );
    const user = await signUp(server, 'not-admin@example.com');
    expect((await server.request('GET', '/api/admin/clients', { token: user.access_token })).status).toBe(
      403,
    );
    const list = await server.request('GET', '/api/admin/clients', { token: admin });
    expect(list.body.clients[0]).toMatchObject({
      client_id: 'jot',
      first_party: true,
      token_endpoint_auth_method: 'none',
    });
    expect(JSON.stringify(list.body)).not.toMatch(/secret_hash|sealed/);
  });

  it('rotates a secret: the old one stops working at once', async () => {
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'Rotating',
      token_endpoint_auth_method: 'client_secret_post',
      audiences: ['https://orders.internal'],
    });
    const cc = (secret: string) =>
      postForm(server, '/oauth/token', {
        grant_type: 'client_credentials',
        client_id: client.client_id,
        client_secret: secret,
      });
    expect((await cc(client_secret!)).status).toBe(200);
    const rotated = await server.request('POST', `/api/admin/clients/${client.client_id}/secret`, {
      token: admin,
    });
    expect(rotated.status).toBe(200);
    expect((await cc(client_secret!)).status).toBe(401);
    expect((await cc(rotated.body.client_secret)).status).toBe(200);
  });

  it('records who changed a client — the admin, their session and address — in every client event', async () => {
    // A second session of the admin: the events must name the session that acted, not just the account.
    const login = await server.request('POST', '/api/login', {
      body: { email: 'admin@example.com', password: 'correct horse battery' },
    });
    expect(login.status).toBe(200);
    const token = login.body.access_token as string;
    const { sub, sid } = claimsOf(token);
    expect(sid).not.toBe(claimsOf(admin).sid);
    const { client } = await registerClient(server, token, {
      name: 'Audited',
      token_endpoint_auth_method: 'client_secret_basic',
      audiences: ['https://orders.internal'],
    });
    const path = `/api/admin/clients/${client.client_id}`;
    expect((await server.request('PATCH', path, { token, body: { dpop: 'required' } })).status).toBe(200);
    expect((await server.request('POST', `${path}/secret`, { token })).status).toBe(200);
    expect((await server.request('DELETE', path, { token })).status).toBe(204);
    const events = await server.request('GET', '/api/admin/events?limit=500', { token });
    const ofClient = (events.body.events as Record<string, unknown>[]).filter(
      (e) => (e.detail as { client_id?: unknown } | null)?.client_id === client.client_id,
    );
    expect(ofClient.map((e) => e.type).sort()).toEqual([
      'client_registered',
      'client_removed',
      'client_secret_rotated',
      'client_updated',
    ]);
    for (const event of ofClient) {
      expect(event).toMatchObject({ user_id: sub, session_id: sid, ip: '127.0.0.1' });
    }
  });

  it('refuses a new secret for a client that authenticates without one', async () => {
    const { publicKey } = keyPair({ type: 'ec', namedCurve: 'P-256' });
    const { client } = await registerClient(server, admin, {
      name: 'Keyed',
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [{ ...publicKey.export({ format: 'jwk' }), kid: 'k1', alg: 'ES256' }] },
      audiences: ['https://orders.internal'],
    });
    for (const id of [client.client_id, 'jot']) {
      const res = await server.request('POST', `/api/admin/clients/${id}/secret`, { token: admin });
      expect({ id, status: res.status, code: res.body.code }).toEqual({
        id,
        status: 400,
        code: 'ERR_CLIENT_NO_SECRET',
      });
    }
  });
});

describe('/api/introspect JSON body', () => {
  const introspect = (body: unknown) => server.request('POST', '/api/introspect', { token: admin, body });

  it('refuses an unknown field with 400 ERR_VALIDATION naming it', async () => {
    const token = (await signUp(server, 'introspect-unknown@example.com')).access_token;
    const misspelt = await introspect({ tokn: token });
    expect([misspelt.status, misspelt.body.error_description]).toEqual([400, 'body: missing field "token"']);
    for (const [body, field] of [
      [{ token, extra: 1 }, 'extra'],
      [{ token, token_type_hint: 'access_token', client_id: 'jot' }, 'client_id'],
    ] as const) {
      const res = await introspect(body);
      expect({ field, status: res.status, body: res.body }).toEqual({
        field,
        status: 400,
        body: {
          error: 'invalid_request',
          error_description: `body: unknown field "${field}"`,
          code: 'ERR_VALIDATION',
        },
      });
    }
    // RFC 7662 §2.1's parameters are known: token, and token_type_hint.
    const hinted = await introspect({ token, token_type_hint: 'access_token' });
    expect({ status: hinted.status, active: hinted.body.active }).toEqual({ status: 200, active: true });
    // The form still ignores what it does not use, as /oauth/introspect does.
    const form = await postForm(
      server,
      '/api/introspect',
      { token, extra: '1', client_id: 'jot' },
      { authorization: `Bearer ${admin}` },
    );
    expect({ status: form.status, active: form.body.active }).toEqual({ status: 200, active: true });
  });

  it('refuses a request without a body: 400 ERR_VALIDATION naming the token, not a 500', async () => {
    const res = await server.request('POST', '/api/introspect', { token: admin });
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 400, code: 'ERR_VALIDATION' });
    expect(res.body.error_description).toMatch(/missing field "token"/);
  });
});

describe('OpenAPI', () => {
  it('documents the OAuth endpoints with their form bodies, and the client admin routes', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>>;
    };
    for (const path of ['/oauth/token', '/oauth/revoke', '/oauth/introspect']) {
      expect(Object.keys(doc.paths[path]?.post?.requestBody?.content ?? {})).toEqual([
        'application/x-www-form-urlencoded',
      ]);
    }
    expect(Object.keys(doc.paths['/api/admin/clients'] ?? {}).sort()).toEqual(['get', 'post']);
    expect(Object.keys(doc.paths['/api/admin/clients/{id}'] ?? {}).sort()).toEqual([
      'delete',
      'get',
      'patch',
    ]);
    expect(doc.paths['/api/admin/clients/{id}/secret']?.post).toBeDefined();
    expect(doc.paths['/.well-known/openid-configuration']).toBeUndefined();
  });

  // Walkthrough 2026-12-02: /api/introspect was documented as JSON only (RFC 7662 clients send the form, which it
  // takes) and without its 200 answer.
  it('documents /api/introspect with both the JSON and the form body it takes, and its 200 answer', async () => {
    const doc = (await server.request('GET', '/openapi.json')).body as {
      paths: Record<string, Record<string, Record<string, any>>>;
    };
    const op = doc.paths['/api/introspect']?.post;
    expect(Object.keys(op?.requestBody?.content ?? {})).toEqual([
      'application/json',
      'application/x-www-form-urlencoded',
    ]);
    expect(op?.requestBody?.required).toBe(true);
    // The JSON body refuses unknown fields; the form, like /oauth/introspect's, ignores parameters it does not use.
    expect(op?.requestBody?.content['application/json'].schema).toMatchObject({
      required: ['token'],
      additionalProperties: false,
      properties: { token: { type: 'string' }, token_type_hint: { type: 'string' } },
    });
    expect(op?.requestBody?.content['application/x-www-form-urlencoded'].schema).toMatchObject({
      required: ['token'],
      properties: { token: { type: 'string' } },
    });
    expect(op?.requestBody?.content['application/x-www-form-urlencoded'].schema).not.toHaveProperty(
      'additionalProperties',
    );
    for (const path of ['/api/introspect', '/oauth/introspect']) {
      expect(doc.paths[path]?.post?.responses?.['200']?.content?.['application/json']?.schema).toMatchObject({
        type: 'object',
        required: ['active'],
        properties: { active: { type: 'boolean' } },
      });
    }
    // What the document says is what the route does: both bodies introspect.
    const token = (await signUp(server, 'openapi-introspect@example.com')).access_token;
    const asJson = await server.request('POST', '/api/introspect', { token: admin, body: { token } });
    const asForm = await postForm(server, '/api/introspect', { token }, { authorization: `Bearer ${admin}` });
    for (const res of [asJson, asForm]) {
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ active: true, token_type: 'Bearer' });
    }
  });
});
