/**
 * The token routes limit who acts, not how many succeed per address ("rate-limit on who is acting, not on how a header
 * is spelled"): an office of users behind one NAT refreshing, or one gateway doing client credentials and token
 * exchange for many users, is never refused for succeeding.
 * - `POST /api/token/refresh`: failed refreshes (unknown, reused token; failed CSRF) spend the address's budget
 *   (`JOT_RATE_LIMIT_AUTH`); once spent, even a valid refresh from that address is refused (429 `ERR_RATE_LIMITED`,
 *   `Retry-After`) until the window ends — guessing gains nothing — while other addresses go on;
 * - `POST /oauth/token`: failed client authentications and refused refresh tokens (`invalid_grant`) spend the
 *   address's client-authentication budget (429 `ERR_CLIENT_AUTH_LOCKED`, OAuth `error` `invalid_request`); a
 *   refused subject token does not (a signed JWT cannot be guessed); an authenticated confidential client's calls
 *   spend its own budget (`JOT_RATE_LIMIT_CLIENT`).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { startServer, type TestResponse, type TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './support/redis.js';

const redisAvailable = await requireRedis('the token-route failure budgets across instances');

const PASSWORD = 'correct horse battery';
const BUDGET = 10;
const WINDOW_S = 60;
const CLIENT_BUDGET = 40;
const EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const AT = 'urn:ietf:params:oauth:token-type:access_token';

let server: TestServer;
let admin: string;
let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

/** A signed-in session of `email` (every request from a fresh address, so set-up spends nobody's budget). */
async function session(email: string): Promise<{ access_token: string; refresh_token: string }> {
  const login = await server.request('POST', '/api/login', {
    body: { email, password: PASSWORD },
    headers: { 'x-forwarded-for': freshAddress() },
  });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return login.body;
}

async function user(email: string): Promise<void> {
  const reg = await server.request('POST', '/api/register', {
    body: { email, password: PASSWORD },
    headers: { 'x-forwarded-for': freshAddress() },
  });
  if (reg.status !== 201) throw new Error(`register failed: ${reg.status} ${reg.text}`);
}

const refresh = (address: string, token: string): Promise<TestResponse> =>
  server.request('POST', '/api/token/refresh', {
    body: { refresh_token: token },
    headers: { 'x-forwarded-for': address },
  });

function expect429(res: TestResponse, code: string, error: string): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ code, error });
  const after = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(after)).toBe(true);
  expect(after).toBeGreaterThanOrEqual(1);
  expect(after).toBeLessThanOrEqual(WINDOW_S);
}

beforeAll(async () => {
  server = await startIssuer({
    rateLimitAuth: `${BUDGET}/${WINDOW_S}s`,
    rateLimitClient: `${CLIENT_BUDGET}/${WINDOW_S}s`,
    trustProxy: true,
  });
  admin = await adminToken(server);
});
afterAll(async () => {
  await server?.close();
});

describe('POST /api/token/refresh', () => {
  it(`3×${BUDGET} successful refreshes of different sessions from one address all succeed`, async () => {
    await user('office@example.com');
    const sessions = [];
    for (let i = 0; i < 3 * BUDGET; i++) sessions.push(await session('office@example.com'));
    const office = freshAddress();
    for (const s of sessions) {
      const res = await refresh(office, s.refresh_token);
      expect(res.status).toBe(200);
      expect(typeof res.body.refresh_token).toBe('string');
    }
  });

  it('failed refreshes spend the address budget; then even a valid refresh from it is refused, not from others', async () => {
    await user('neighbour@example.com');
    const good = await session('neighbour@example.com');
    const guesser = freshAddress();
    for (let i = 0; i < BUDGET; i++) {
      const res = await refresh(guesser, `garbage-${i}-${'x'.repeat(40)}`);
      expect(res.status).toBe(401);
    }
    expect429(await refresh(guesser, `garbage-more-${'x'.repeat(40)}`), 'ERR_RATE_LIMITED', 'rate_limited');
    // A valid token from the locked address is refused before it is looked at (it stays unspent) …
    expect429(await refresh(guesser, good.refresh_token), 'ERR_RATE_LIMITED', 'rate_limited');
    // … and works from another address.
    expect((await refresh(freshAddress(), good.refresh_token)).status).toBe(200);
    const events = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'rate_limited' });
    expect(events.some((e) => e.ip === guesser && e.detail.limit === 'refresh-failures')).toBe(true);
  });

  it('a malformed request (no token) costs no budget', async () => {
    const address = freshAddress();
    for (let i = 0; i < BUDGET + 2; i++) {
      const res = await server.request('POST', '/api/token/refresh', {
        body: {},
        headers: { 'x-forwarded-for': address },
      });
      expect(res.status).toBe(400);
    }
    await user('malformed@example.com');
    expect((await refresh(address, (await session('malformed@example.com')).refresh_token)).status).toBe(200);
  });
});

describe('POST /oauth/token', () => {
  async function gateway(name: string): Promise<{ id: string; secret: string }> {
    const own = JSON.parse(Buffer.from(admin.split('.')[1]!, 'base64url').toString()) as {
      aud: string | string[];
    };
    const { client, client_secret } = await registerClient(server, admin, {
      name,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials', EXCHANGE],
      audiences: ['https://api.example', Array.isArray(own.aud) ? own.aud[0]! : own.aud],
    });
    return { id: client.client_id, secret: client_secret! };
  }

  const credentials = (address: string, auth: string): Promise<TestResponse> =>
    postForm(
      server,
      '/oauth/token',
      { grant_type: 'client_credentials' },
      {
        authorization: auth,
        'x-forwarded-for': address,
      },
    );

  it(`3×${BUDGET} successful client-credentials calls from one address all succeed`, async () => {
    const gw = await gateway('busy gateway');
    const address = freshAddress();
    for (let i = 0; i < 3 * BUDGET; i++) {
      expect((await credentials(address, basic(gw.id, gw.secret))).status).toBe(200);
    }
  });

  it('token exchanges for many users from one address succeed; refused subject tokens (unguessable JWTs) lock nobody', async () => {
    const gw = await gateway('exchange gateway');
    await user('exchanged@example.com');
    const address = freshAddress();
    const exchange = (subject: string) =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: EXCHANGE, subject_token: subject, subject_token_type: AT },
        { authorization: basic(gw.id, gw.secret), 'x-forwarded-for': address },
      );
    for (let i = 0; i < BUDGET + 2; i++) {
      expect((await exchange((await session('exchanged@example.com')).access_token)).status).toBe(200);
    }
    // A user's stale or bogus token relayed by the gateway is refused on its own; it does not close the address.
    for (let i = 0; i < BUDGET + 2; i++) {
      const res = await exchange('a.b.c');
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_request');
    }
    expect((await exchange((await session('exchanged@example.com')).access_token)).status).toBe(200);
    expect((await credentials(address, basic(gw.id, gw.secret))).status).toBe(200);
  });

  it("bad refresh tokens of an authenticated client are bounded (invalid_grant spends the client's budget)", async () => {
    const guesser = freshAddress();
    const gw = await gateway('refreshing gateway');
    const attempt = () =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: `guess-${randomInt(1e9)}` },
        { authorization: basic(gw.id, gw.secret), 'x-forwarded-for': guesser },
      );
    // The gateway is not registered for refresh_token: unauthorized_client, not a guess; costs nothing.
    expect((await attempt()).body.error).toBe('unauthorized_client');
    const { client, client_secret } = await registerClient(server, admin, {
      name: 'refresher',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['refresh_token'],
    });
    const guess = () =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: `guess-${randomInt(1e9)}-${'y'.repeat(30)}` },
        { authorization: basic(client.client_id, client_secret!), 'x-forwarded-for': guesser },
      );
    for (let i = 0; i < BUDGET; i++) {
      const res = await guess();
      expect(res.status).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    }
    // Its own budget (gateway-failures-count-per-client.test.ts), not the address's.
    expect429(await guess(), 'ERR_RATE_LIMITED', 'invalid_request');
  });

  it('a client over JOT_RATE_LIMIT_CLIENT gets 429 ERR_RATE_LIMITED from any address; other clients go on', async () => {
    const gw = await gateway('greedy gateway');
    for (let i = 0; i < CLIENT_BUDGET; i++) {
      expect((await credentials(freshAddress(), basic(gw.id, gw.secret))).status).toBe(200);
    }
    expect429(
      await credentials(freshAddress(), basic(gw.id, gw.secret)),
      'ERR_RATE_LIMITED',
      'invalid_request',
    );
    const calm = await gateway('calm gateway');
    expect((await credentials(freshAddress(), basic(calm.id, calm.secret))).status).toBe(200);
  });
});

describe.runIf(redisAvailable)('across two instances sharing Redis', () => {
  let a: TestServer;
  let b: TestServer;
  beforeAll(async () => {
    const settings = {
      rateLimitAuth: `${BUDGET}/${WINDOW_S}s`,
      trustProxy: true,
      redisUrl: TEST_REDIS_URL,
      // One deployment: one namespace and one KEK.
      redisNamespace: testRedisNamespace(randomUUID()),
      kek: randomBytes(32).toString('base64url'),
    };
    a = await startServer(settings);
    b = await startServer(settings);
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
  });

  it('failed refreshes on one instance close the address on the other', async () => {
    const address = freshAddress();
    for (let i = 0; i < BUDGET; i++) {
      const res = await (i % 2 === 0 ? a : b).request('POST', '/api/token/refresh', {
        body: { refresh_token: `garbage-${i}-${'z'.repeat(40)}` },
        headers: { 'x-forwarded-for': address },
      });
      expect(res.status).toBe(401);
    }
    for (const server of [a, b]) {
      const res = await server.request('POST', '/api/token/refresh', {
        body: { refresh_token: `garbage-last-${'z'.repeat(40)}` },
        headers: { 'x-forwarded-for': address },
      });
      expect(res.status).toBe(429);
      expect(res.body.code).toBe('ERR_RATE_LIMITED');
    }
  });

  it('failed client authentications at /oauth/token on one instance close the address on the other', async () => {
    const address = freshAddress();
    const attempt = (server: TestServer, i: number) =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'client_credentials' },
        { authorization: basic(`no-such-client-${i}`, 'guess'), 'x-forwarded-for': address },
      );
    for (let i = 0; i < BUDGET; i++) expect((await attempt(i % 2 === 0 ? a : b, i)).status).toBe(401);
    for (const server of [a, b]) {
      const res = await attempt(server, 99);
      expect(res.status).toBe(429);
      expect(res.body).toMatchObject({ code: 'ERR_CLIENT_AUTH_LOCKED', error: 'invalid_request' });
    }
  });
});
