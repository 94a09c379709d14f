/**
 * Who may introspect what at `/oauth/introspect` (RFC 7662 §4): a client registered with `introspection: 'own'` (the
 * default for new clients) learns only about access tokens issued to it (`client_id`) or naming it in `aud`; every
 * other token answers exactly `{"active": false}` (§2.2), the same as a dead one, so the answer never tells it that a
 * foreign token is live. `'any'` is a resource server's setting; the resource-server secret keeps full access. The
 * setting round-trips through the admin API, a bad value is a 400 `ERR_CLIENT_INVALID`, and migration 0014 gives
 * every client registered before it `'any'` (what it could do until then), on SQLite and PostgreSQL.
 */
import { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

import type { Schema } from '../src/store/schema.js';
import { signUp, type TestResponse, type TestServer } from './support/jot-server.js';
import { migrateTo, migrationBackends } from './support/migrations.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const FEED_SECRET = 'i'.repeat(40);
const ORDERS = 'https://orders.internal';
/** The server's own audience (`JOT_AUDIENCE`): a user's access token names it in `aud`. */
const OWN_AUDIENCE = 'orders-api';

let server: TestServer;
let admin: string;

interface Caller {
  id: string;
  headers: Record<string, string>;
}

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`,
});

async function secretClient(body: Record<string, unknown>): Promise<Caller & { view: unknown }> {
  const { client, client_secret } = await registerClient(server, admin, {
    token_endpoint_auth_method: 'client_secret_basic',
    audiences: [ORDERS],
    ...body,
  });
  return { id: client.client_id, headers: basic(client.client_id, client_secret!), view: client };
}

async function clientToken(caller: Caller): Promise<string> {
  const res = await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, caller.headers);
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

const introspect = (token: string, headers: Record<string, string>): Promise<TestResponse> =>
  postForm(server, '/oauth/introspect', { token }, headers);

/** The status and body of an answer, for one exact comparison. */
const answer = (res: TestResponse) => ({ status: res.status, body: res.body as unknown });

beforeAll(async () => {
  server = await startIssuer({ revocationSecret: FEED_SECRET, audience: OWN_AUDIENCE });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

describe('introspection: own', () => {
  let own: Caller & { view: unknown };
  let other: Caller;
  beforeAll(async () => {
    own = await secretClient({ client_id: 'reports', name: 'Reports', scopes: ['orders:read'] });
    other = await secretClient({ client_id: 'billing', name: 'Billing' });
  });

  it('is the default for a new client', async () => {
    expect(own.view).toMatchObject({ introspection: 'own' });
    const shown = await server.request('GET', '/api/admin/clients/reports', { token: admin });
    expect(shown.body).toMatchObject({ introspection: 'own' });
  });

  it('describes the client’s own client-credentials token with its claims', async () => {
    const res = await introspect(await clientToken(own), own.headers);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      active: true,
      client_id: 'reports',
      sub: 'reports',
      aud: ORDERS,
      scope: 'orders:read',
      token_type: 'Bearer',
    });
  });

  it('answers exactly {"active": false} for another client’s token and a user’s token', async () => {
    const foreign = await clientToken(other);
    expect(answer(await introspect(foreign, own.headers))).toEqual({ status: 200, body: { active: false } });
    const user = await signUp(server, 'own-user@example.com');
    expect(answer(await introspect(user.access_token, own.headers))).toEqual({
      status: 200,
      body: { active: false },
    });
    // The same token is live: its own client, and the resource-server secret, see it.
    expect((await introspect(foreign, other.headers)).body).toMatchObject({ active: true, sub: 'billing' });
    const secret = { authorization: `Bearer ${FEED_SECRET}` };
    expect((await introspect(user.access_token, secret)).body).toMatchObject({ active: true });
  });

  it('refuses a foreign token before any revocation or client lookup (its time cannot tell live from revoked)', async () => {
    const foreign = await clientToken(other);
    const user = await signUp(server, 'lookup-user@example.com');
    const { store, revocations } = server.app.jot;
    const jti = vi.spyOn(store, 'isJtiRevoked');
    const client = vi.spyOn(store, 'getClient');
    const check = vi.spyOn(revocations, 'check');
    try {
      expect(answer(await introspect(foreign, own.headers))).toEqual({
        status: 200,
        body: { active: false },
      });
      expect(answer(await introspect(user.access_token, own.headers))).toEqual({
        status: 200,
        body: { active: false },
      });
      expect(jti).not.toHaveBeenCalled();
      expect(check).not.toHaveBeenCalled();
      // Client authentication reads the caller's own row; the token's client is never looked up.
      expect(client.mock.calls.map(([id]) => id)).not.toContain('billing');
      // Its own token does go through them.
      await introspect(await clientToken(own), own.headers);
      expect(jti).toHaveBeenCalled();
    } finally {
      jti.mockRestore();
      client.mockRestore();
      check.mockRestore();
    }
  });

  it('describes a token whose aud names the client', async () => {
    const api = await secretClient({ client_id: OWN_AUDIENCE, name: 'Orders API' });
    const user = await signUp(server, 'aud-user@example.com');
    expect((await introspect(user.access_token, api.headers)).body).toMatchObject({
      active: true,
      sub: user.userId,
      aud: OWN_AUDIENCE,
      client_id: 'jot',
    });
  });
});

describe('introspection: any, and the resource-server secret', () => {
  it('a client registered with any describes every live access token', async () => {
    const rs = await secretClient({ name: 'Resource server', introspection: 'any' });
    expect(rs.view).toMatchObject({ introspection: 'any' });
    const issuedTo = await secretClient({ name: 'Some service' });
    const user = await signUp(server, 'any-user@example.com');
    expect((await introspect(user.access_token, rs.headers)).body).toMatchObject({
      active: true,
      sub: user.userId,
    });
    expect((await introspect(await clientToken(issuedTo), rs.headers)).body).toMatchObject({
      active: true,
      client_id: issuedTo.id,
    });
    // Still no one else's refresh token.
    expect((await introspect(user.refresh_token, rs.headers)).body).toEqual({ active: false });
  });

  it('the resource-server secret describes every live access token', async () => {
    const issuedTo = await secretClient({ name: 'Another service' });
    const secret = { authorization: `Bearer ${FEED_SECRET}` };
    expect((await introspect(await clientToken(issuedTo), secret)).body).toMatchObject({
      active: true,
      client_id: issuedTo.id,
    });
    const user = await signUp(server, 'secret-user@example.com');
    expect((await introspect(user.access_token, secret)).body).toMatchObject({ active: true });
  });
});

describe('the introspection setting in the admin API', () => {
  it('changes with PATCH and applies to the next introspection', async () => {
    const changing = await secretClient({ name: 'Changing' });
    const user = await signUp(server, 'patch-user@example.com');
    const path = `/api/admin/clients/${changing.id}`;
    const widened = await server.request('PATCH', path, { token: admin, body: { introspection: 'any' } });
    expect(widened.status).toBe(200);
    expect(widened.body).toMatchObject({ introspection: 'any', dpop: 'optional' });
    expect((await introspect(user.access_token, changing.headers)).body).toMatchObject({ active: true });
    expect((await server.request('GET', path, { token: admin })).body).toMatchObject({
      introspection: 'any',
    });
    const listed = await server.request('GET', '/api/admin/clients', { token: admin });
    expect(listed.body.clients).toContainEqual(
      expect.objectContaining({ client_id: changing.id, introspection: 'any' }),
    );

    const narrowed = await server.request('PATCH', path, { token: admin, body: { introspection: 'own' } });
    expect(narrowed.body).toMatchObject({ introspection: 'own' });
    expect((await introspect(user.access_token, changing.headers)).body).toEqual({ active: false });

    const events = await server.request('GET', '/api/admin/events?limit=500', { token: admin });
    const updates = (events.body.events as { type: string; detail: unknown }[]).filter(
      (e) => e.type === 'client_updated',
    );
    expect(updates.map((e) => e.detail)).toContainEqual({ client_id: changing.id, introspection: 'own' });
  });

  it('refuses a bad value with 400 ERR_CLIENT_INVALID naming the values, at registration and PATCH', async () => {
    const registered = await server.request('POST', '/api/admin/clients', {
      token: admin,
      body: {
        name: 'Bad',
        token_endpoint_auth_method: 'client_secret_basic',
        audiences: [ORDERS],
        introspection: 'all',
      },
    });
    expect(registered.status).toBe(400);
    expect(registered.body).toMatchObject({ error: 'invalid_client_metadata', code: 'ERR_CLIENT_INVALID' });
    expect(registered.body.error_description).toMatch(/introspection.*"own".*"any"/);

    const client = await secretClient({ name: 'Patched badly' });
    const patched = await server.request('PATCH', `/api/admin/clients/${client.id}`, {
      token: admin,
      body: { introspection: 'everything' },
    });
    expect(patched.status).toBe(400);
    expect(patched.body).toMatchObject({ code: 'ERR_CLIENT_INVALID' });
    expect(patched.body.error_description).toMatch(/introspection.*"own".*"any"/);
  });

  it('refuses any for a public client, which introspects no access token', async () => {
    const res = await server.request('PATCH', '/api/admin/clients/jot', {
      token: admin,
      body: { introspection: 'any' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'ERR_CLIENT_INVALID' });
    expect(res.body.error_description).toMatch(/public client/);
  });
});

// ---- Migration 0014 on a database holding clients registered before it --------------------------------------

const T0 = Date.UTC(2033, 3, 1);
const backends = await migrationBackends('migration 0014', T0);

/** A client row as a database before migration 0014 held it. */
function clientRow(clientId: string, authMethod: string) {
  return {
    client_id: clientId,
    name: clientId,
    auth_method: authMethod,
    secret_hash: authMethod === 'none' ? null : 'ab'.repeat(32),
    sealed_secret: null,
    jwks: null,
    jwks_uri: null,
    grant_types: JSON.stringify(authMethod === 'none' ? ['refresh_token'] : ['client_credentials']),
    scopes: '[]',
    audiences: JSON.stringify(authMethod === 'none' ? [] : [ORDERS]),
    token_ttl_ms: null,
    first_party: 0,
    created_at: T0,
    updated_at: T0,
    secret_rotated_at: null,
  };
}

describe.each(backends)('migration 0014 (introspection per client): $dialect', (backend) => {
  it('gives clients registered before it "any" (public ones "own"); new ones get "own"', async () => {
    const store = await backend.open();
    const db = new Kysely<Schema>({ dialect: backend.kysely() });
    try {
      const down = await migrateTo(db, backend, '0013_one_totp_factor');
      expect(down.error).toBeUndefined();
      // Later migrations go down first; 0014 last.
      expect(down.results?.map((r) => r.migrationName).at(-1)).toBe('0014_client_introspection');
      await db
        .insertInto('oauth_clients')
        .values([clientRow('legacy-rs', 'client_secret_basic'), clientRow('legacy-app', 'none')])
        .execute();

      // The next open applies 0014, as an upgrade does.
      await (await backend.open()).close();
      expect((await store.getClient('legacy-rs'))?.introspection).toBe('any');
      expect((await store.getClient('legacy-app'))?.introspection).toBe('own');
      const fresh = await store.createClient({
        ...{ clientId: 'fresh', name: 'Fresh', authMethod: 'client_secret_basic' },
        ...{ secretHash: 'cd'.repeat(32), sealedSecret: null, jwks: null, jwksUri: null },
        ...{ grantTypes: ['client_credentials'], scopes: [], audiences: [ORDERS] },
        ...{ tokenTtlMs: null, firstParty: false },
      });
      expect(fresh.introspection).toBe('own');
      // A row written without the column (a hand-made insert) gets the column's default, "own": fail closed.
      await db.insertInto('oauth_clients').values(clientRow('hand-made', 'client_secret_basic')).execute();
      expect((await store.getClient('hand-made'))?.introspection).toBe('own');
    } finally {
      await db.destroy();
      await store.close();
    }
  });
});
