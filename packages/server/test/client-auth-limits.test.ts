/**
 * Limits on who acts at `/oauth/introspect` (RFC 7662), `/oauth/revoke` (RFC 7009) and `/api/introspect`:
 * - failed client authentications per address (`JOT_RATE_LIMIT_AUTH`): once used up, even the right secret from
 *   it is refused (429 `ERR_CLIENT_AUTH_LOCKED`, `Retry-After`) — guessing gains nothing — while other addresses go
 *   on; wrong secrets for one client id from many addresses never refuse its right secret (ids are public); wrong resource-server secrets are limited per address the same way,
 *   but the right secret is never refused (resource servers behind one NAT must not be shut out by a neighbour);
 * - calls per authenticated caller (`JOT_RATE_LIMIT_CLIENT`), one budget across the endpoints — per OAuth client or
 *   admin; the resource-server secret's holders have none (a strict verifier asks once per request).
 * Failures below the budget keep their RFC answers (401 `invalid_client` with its challenge). The budgets over
 * Redis, shared by instances, are in failure-limiter.test.ts; the per-caller budget uses the shared rate-limit store.
 */
import { randomInt } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestResponse, TestServer } from './support/jot-server.js';
import { claimedClientId } from '../src/plugins/caller-limits.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const FEED_SECRET = 'resource-server-secret-of-forty-characters';
const FAILURES = 3;
const WINDOW_S = 60;

let server: TestServer;
let admin: string;
let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function secretClient(name: string): Promise<{ id: string; secret: string }> {
  const { client, client_secret } = await registerClient(server, admin, {
    name,
    token_endpoint_auth_method: 'client_secret_basic',
    grant_types: ['client_credentials'],
    audiences: ['https://api.example'],
  });
  return { id: client.client_id, secret: client_secret! };
}

function call(path: string, address: string, authorization: string, token = 'x.y.z'): Promise<TestResponse> {
  return postForm(server, path, { token }, { authorization, 'x-forwarded-for': address });
}

function expectLocked(res: TestResponse, code: string, path: string): void {
  expect(res.status).toBe(429);
  // The OAuth endpoints answer only registered error codes (RFC 6749 §5.2): `invalid_request`; the JSON API its own.
  expect(res.body).toMatchObject({
    code,
    error: path.startsWith('/oauth/') ? 'invalid_request' : 'rate_limited',
  });
  const after = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(after)).toBe(true);
  expect(after).toBeGreaterThanOrEqual(1);
  expect(after).toBeLessThanOrEqual(WINDOW_S);
}

beforeAll(async () => {
  server = await startIssuer({
    rateLimitAuth: `${FAILURES}/${WINDOW_S}s`,
    rateLimitClient: `4/${WINDOW_S}s`,
    trustProxy: true,
    revocationSecret: FEED_SECRET,
  });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

describe.each(['/oauth/introspect', '/oauth/revoke'])('failed client authentications at %s', (path) => {
  it('per client_id: wrong secrets from many addresses never refuse the right one (client ids are public)', async () => {
    const victim = await secretClient(`victim ${path}`);
    for (let i = 0; i < FAILURES; i++) {
      const wrong = await call(path, freshAddress(), basic(victim.id, `guess ${i}`));
      // Below the budget the RFC answer is unchanged.
      expect(wrong.status).toBe(401);
      expect(wrong.body).toMatchObject({ error: 'invalid_client', code: 'ERR_CLIENT_AUTH_FAILED' });
      expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic /);
    }
    expect((await call(path, freshAddress(), basic(victim.id, victim.secret))).status).toBe(200);
    // Another client is not affected.
    const other = await secretClient(`bystander ${path}`);
    expect((await call(path, freshAddress(), basic(other.id, other.secret))).status).toBe(200);
  });

  it('per address: wrong secrets for many client ids close the address, not the clients', async () => {
    const address = freshAddress();
    for (let i = 0; i < FAILURES; i++) {
      expect((await call(path, address, basic(`no-such-client-${i}`, 'guess'))).status).toBe(401);
    }
    const client = await secretClient(`spread ${path}`);
    expectLocked(await call(path, address, basic(client.id, client.secret)), 'ERR_CLIENT_AUTH_LOCKED', path);
    expect((await call(path, freshAddress(), basic(client.id, client.secret))).status).toBe(200);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'rate_limited' });
    expect(events.some((e) => e.ip === address && e.detail.limit === 'client-auth')).toBe(true);
  });

  it('per address: an IPv6 /64 is one address, however its addresses are spelled', async () => {
    const net = `2001:db8:${randomInt(0x10000).toString(16)}:${randomInt(0x10000).toString(16)}`;
    const spelled = [`${net}::1`, `${net}:0:0:0:2`, `${net.toUpperCase()}:abcd::3`];
    for (let i = 0; i < FAILURES; i++) {
      expect((await call(path, spelled[i]!, basic(`no-such-client-${i}`, 'guess'))).status).toBe(401);
    }
    const client = await secretClient(`ipv6 ${path}`);
    expectLocked(
      await call(path, `${net}:ffff::9`, basic(client.id, client.secret)),
      'ERR_CLIENT_AUTH_LOCKED',
      path,
    );
    expect(
      (
        await call(
          path,
          `2001:db8:ffff:${randomInt(0x10000).toString(16)}::1`,
          basic(client.id, client.secret),
        )
      ).status,
    ).toBe(200);
  });

  it('a request without credentials is refused as before and costs no budget', async () => {
    const address = freshAddress();
    for (let i = 0; i < FAILURES + 1; i++) {
      const res = await postForm(server, path, { token: 'x.y.z' }, { 'x-forwarded-for': address });
      expect(res.status).toBe(401);
    }
    const client = await secretClient(`anonymous ${path}`);
    expect((await call(path, address, basic(client.id, client.secret))).status).toBe(200);
  });
});

describe('the resource-server credential (/api/introspect, /oauth/introspect, the feed)', () => {
  it('wrong secrets close the address to guesses and admin tokens on every route; the right secret still passes', async () => {
    const address = freshAddress();
    const wrong = await call('/api/introspect', address, 'Bearer not-the-secret');
    expect(wrong.status).toBe(401);
    expect(wrong.body.code).toBe('ERR_FEED_AUTH');
    // The OAuth endpoint answers a bad bearer credential as RFC 7662 §2.3 says: a 401 as in RFC 6750 §3.
    const oauth = await call('/oauth/introspect', address, 'Bearer still-not-it');
    expect(oauth.status).toBe(401);
    expect(oauth.body).toMatchObject({ error: 'invalid_token', code: 'ERR_FEED_AUTH' });
    expect(oauth.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    const feed = await server.request('GET', '/api/revocations', {
      headers: { authorization: 'Bearer nor-this', 'x-forwarded-for': address },
    });
    expect(feed.status).toBe(401);
    expectLocked(
      await call('/api/introspect', address, 'Bearer yet-another-guess'),
      'ERR_CLIENT_AUTH_LOCKED',
      '/api/introspect',
    );
    expectLocked(
      await call('/api/introspect', address, `Bearer ${admin}`),
      'ERR_CLIENT_AUTH_LOCKED',
      '/api/introspect',
    );
    // The resource servers behind that address (a NAT) are not shut out by whoever guessed beside them.
    const right = await call('/api/introspect', address, `Bearer ${FEED_SECRET}`);
    expect(right.status).toBe(200);
    expect(right.body).toEqual({ active: false });
    const stream = await server.request('GET', '/api/revocations', {
      headers: { authorization: `Bearer ${FEED_SECRET}`, 'x-forwarded-for': address },
    });
    expect(stream.status).toBe(200);
    const other = await call('/api/introspect', freshAddress(), `Bearer ${FEED_SECRET}`);
    expect(other.status).toBe(200);
    expect(other.body).toEqual({ active: false });
  });
});

describe('calls per authenticated caller (JOT_RATE_LIMIT_CLIENT)', () => {
  it('one budget per client across introspection and revocation, from any address; others unaffected', async () => {
    const busy = await secretClient('busy');
    const auth = basic(busy.id, busy.secret);
    for (const path of ['/oauth/introspect', '/oauth/revoke', '/oauth/introspect', '/oauth/revoke']) {
      expect((await call(path, freshAddress(), auth)).status).toBe(200);
    }
    expectLocked(
      await call('/oauth/introspect', freshAddress(), auth),
      'ERR_RATE_LIMITED',
      '/oauth/introspect',
    );
    expectLocked(await call('/oauth/revoke', freshAddress(), auth), 'ERR_RATE_LIMITED', '/oauth/revoke');
    const calm = await secretClient('calm');
    expect((await call('/oauth/introspect', freshAddress(), basic(calm.id, calm.secret))).status).toBe(200);
  });

  it("the resource-server secret has no call budget (strict verifiers ask per request); an admin's token has one", async () => {
    const address = freshAddress();
    for (let i = 0; i < 12; i++) {
      const path = i % 2 === 0 ? '/api/introspect' : '/oauth/introspect';
      expect((await call(path, address, `Bearer ${FEED_SECRET}`)).status).toBe(200);
    }
    const adminAddress = freshAddress();
    for (let i = 0; i < 4; i++) {
      expect((await call('/api/introspect', adminAddress, `Bearer ${admin}`)).status).toBe(200);
    }
    expectLocked(
      await call('/oauth/introspect', freshAddress(), `Bearer ${admin}`),
      'ERR_RATE_LIMITED',
      '/oauth/introspect',
    );
    // The secret's holders at that address are still not refused.
    expect((await call('/api/introspect', adminAddress, `Bearer ${FEED_SECRET}`)).status).toBe(200);
  });
});

describe('the claimed client id failures are counted under', () => {
  it('is the Basic user name decoded as the authentication decodes it (RFC 6749 §2.3.1 form-encoding)', () => {
    expect(claimedClientId(basic('svc 1', 'x'), {})).toBe('svc 1');
    const spelled = `Basic ${Buffer.from('%73vc+1:x').toString('base64')}`;
    expect(claimedClientId(spelled, {})).toBe('svc 1');
  });

  it('falls back to the form when the Basic credentials are malformed', () => {
    const malformed = `Basic ${Buffer.from('%E0%A4%A:x').toString('base64')}`;
    expect(claimedClientId(malformed, { client_id: 'form-id' })).toBe('form-id');
    expect(claimedClientId('Basic !!!', {})).toBeUndefined();
  });
});

describe('the ceiling on the resource-server secret per address (JOT_RATE_LIMIT_RESOURCE_SERVER)', () => {
  const CEILING = 5;
  let limited: TestServer;
  beforeAll(async () => {
    limited = await startIssuer({
      rateLimitResourceServer: `${CEILING}/${WINDOW_S}s`,
      trustProxy: true,
      revocationSecret: FEED_SECRET,
    });
  });
  afterAll(async () => {
    await limited?.close();
  });

  const withSecret = (path: string, address: string): Promise<TestResponse> =>
    path === '/api/revocations'
      ? limited.request('GET', path, {
          headers: { authorization: `Bearer ${FEED_SECRET}`, 'x-forwarded-for': address },
        })
      : postForm(
          limited,
          path,
          { token: 'x.y.z' },
          { authorization: `Bearer ${FEED_SECRET}`, 'x-forwarded-for': address },
        );

  it('counts introspection and the feed together per address, refuses beyond it, and leaves other addresses alone', async () => {
    const address = freshAddress();
    const paths = ['/api/introspect', '/oauth/introspect', '/api/revocations'];
    for (let i = 0; i < CEILING; i++) expect((await withSecret(paths[i % 3]!, address)).status).toBe(200);
    for (const path of paths) {
      const refused = await withSecret(path, address);
      expect(refused.status).toBe(429);
      expect(refused.body.code).toBe('ERR_RATE_LIMITED');
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect((await withSecret('/api/introspect', freshAddress())).status).toBe(200);
  });

  it('does not count a wrong secret against it (wrong secrets have their own budget)', async () => {
    const address = freshAddress();
    const wrong = await postForm(
      limited,
      '/api/introspect',
      { token: 'x.y.z' },
      {
        authorization: 'Bearer not-the-secret',
        'x-forwarded-for': address,
      },
    );
    expect(wrong.status).toBe(401);
    for (let i = 0; i < CEILING; i++) expect((await withSecret('/api/introspect', address)).status).toBe(200);
    expect((await withSecret('/api/introspect', address)).status).toBe(429);
  });
});
