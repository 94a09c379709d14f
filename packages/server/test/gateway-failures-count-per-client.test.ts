/**
 * A confidential gateway relaying its users' refresh tokens to `/oauth/token` used to spend its ADDRESS's failure
 * budget on their junk tokens — the budget its introspection and revocation calls (and its neighbours') share — so a
 * few users with garbage locked the gateway out of everything. After a successful client authentication, a refresh
 * token the server does not know now spends the CLIENT's own budget (`JOT_RATE_LIMIT_AUTH`, per client): once it is
 * used up, that client's refresh grants are refused (429 `ERR_RATE_LIMITED`, `invalid_request`, `Retry-After`) while its
 * address stays open. Unauthenticated guesses (a public client) still spend the address's budget
 * (`ERR_CLIENT_AUTH_LOCKED`).
 */
import { randomInt } from 'node:crypto';

import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { callerLimits } from '../src/plugins/caller-limits.js';

import type { TestResponse, TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';

const BUDGET = 5;

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const junk = (): string => `junk-${randomInt(1e9)}-${'z'.repeat(30)}`;

function expect429(res: TestResponse, code: string): void {
  expect(res.status, res.text).toBe(429);
  expect(res.body).toMatchObject({ error: 'invalid_request', code });
  expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
}

describe('unknown refresh tokens relayed by an authenticated client count against the client', () => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    server = await startIssuer({ rateLimitAuth: `${BUDGET}/60s`, trustProxy: true });
    admin = await adminToken(server);
  });
  afterAll(() => server?.close());

  async function gateway(name: string): Promise<{ authorization: string }> {
    const { client, client_secret } = await registerClient(server, admin, {
      name,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['refresh_token', 'client_credentials'],
      audiences: ['https://api.example'],
    });
    return { authorization: basic(client.client_id, client_secret!) };
  }

  it('a gateway relaying many junk tokens is refused itself; its address stays open for its other calls', async () => {
    const address = freshAddress();
    const own = await gateway('relaying gateway');
    const neighbour = await gateway('neighbour behind the same NAT');
    const grant = (auth: { authorization: string }, token: string) =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: token },
        { ...auth, 'x-forwarded-for': address },
      );
    for (let i = 0; i < BUDGET; i++) {
      const res = await grant(own, junk());
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ error: 'invalid_grant', code: 'ERR_REFRESH_TOKEN_INVALID' });
    }
    // Its own budget is spent: its grants are refused before any token is looked at.
    expect429(await grant(own, junk()), 'ERR_RATE_LIMITED');
    // The address is not locked: the gateway's revocation call authenticates, and so does its neighbour's grant.
    const revoke = await postForm(
      server,
      '/oauth/revoke',
      { token: junk() },
      { ...own, 'x-forwarded-for': address },
    );
    expect(revoke.status, revoke.text).toBe(200);
    const other = await grant(neighbour, junk());
    expect(other.status, other.text).toBe(400);
    expect(other.body.error).toBe('invalid_grant');
    const events = await server.app.jot.store.listSecurityEvents({ limit: 100, type: 'rate_limited' });
    expect(events.some((e) => e.ip === address && e.detail.limit === 'client-grant-failures')).toBe(true);
  });

  it("a locked gateway still gets client-credentials grants: its users' junk holds back only its refresh grants", async () => {
    const address = freshAddress();
    const own = await gateway('gateway with service calls');
    const headers = { ...own, 'x-forwarded-for': address };
    for (let i = 0; i < BUDGET; i++) {
      const res = await postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: junk() },
        headers,
      );
      expect(res.status, res.text).toBe(400);
    }
    expect429(
      await postForm(server, '/oauth/token', { grant_type: 'refresh_token', refresh_token: junk() }, headers),
      'ERR_RATE_LIMITED',
    );
    const service = await postForm(server, '/oauth/token', { grant_type: 'client_credentials' }, headers);
    expect(service.status, service.text).toBe(200);
    expect(service.body.access_token).toEqual(expect.any(String));
  });

  it(`more than ${BUDGET} refresh grants of one client in flight at once are no failures: none is refused`, async () => {
    const limits = callerLimits(server.app);
    const request = { ip: freshAddress() } as FastifyRequest;
    let finish!: () => void;
    const held = new Promise<void>((resolve) => (finish = resolve));
    let running = 0;
    const inFlight = Array.from({ length: BUDGET * 3 }, () =>
      limits.clientGrant(
        request,
        'busy-gateway',
        async () => {
          running++;
          await held;
          return 'granted';
        },
        () => true,
      ),
    );
    // Every grant reaches its work while all are in flight; then they finish, none counted as a failure.
    await expect.poll(() => running, { timeout: 10_000 }).toBe(BUDGET * 3);
    finish();
    expect(await Promise.all(inFlight)).toEqual(inFlight.map(() => 'granted'));
  });

  it('unauthenticated guesses (a public client) still spend the address budget', async () => {
    const address = freshAddress();
    const guess = () =>
      postForm(
        server,
        '/oauth/token',
        { grant_type: 'refresh_token', refresh_token: junk(), client_id: 'jot' },
        { 'x-forwarded-for': address },
      );
    for (let i = 0; i < BUDGET; i++) expect((await guess()).status).toBe(400);
    expect429(await guess(), 'ERR_CLIENT_AUTH_LOCKED');
    // The whole address: a confidential client's call from it is refused too.
    const own = await gateway('gateway at a guessing address');
    expect429(
      await postForm(server, '/oauth/revoke', { token: junk() }, { ...own, 'x-forwarded-for': address }),
      'ERR_CLIENT_AUTH_LOCKED',
    );
  });
});
