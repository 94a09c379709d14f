/**
 * The "budget spent" `rate_limited` events of failed client authentications (plugins/caller-limits.ts) at
 * `/oauth/introspect`: a failure is counted per address (the budget that locks, `detail.limit` `client-auth`) and per
 * claimed client id (only counted, `client-auth-client-id` with the id), and each key's event is recorded at THAT
 * key's `max`th failure — in this instance's memory and on Redis alike. A claimed id is the caller's text: it is named
 * only when it is a registered client that authenticates, never when it names no client or a public one.
 *
 * Regression: the event was recorded when the largest of the two counts was exactly `max`. An address whose
 * failures claimed a client id already past `max` (one under attack from many addresses) spent its budget — and was
 * locked — with no event; and an address failing once, for a client id at its `max`th, got a `client-auth` event for
 * a budget it had not spent.
 */
import { randomInt, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { adminToken, postForm, registerClient, startIssuer } from './support/oauth.js';
import { waitFor } from './support/processes.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './support/redis.js';

const FAILURES = 3;
const redisAvailable = await requireRedis('client-auth budget events over Redis');

let nextAddress = randomInt(1, 2 ** 24 - 10_000);
const freshAddress = (): string =>
  `10.${(nextAddress >> 16) & 255}.${(nextAddress >> 8) & 255}.${nextAddress++ & 255}`;

const basic = (id: string, secret: string): string =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

const backends = [
  { name: 'in memory', run: true, settings: {} },
  {
    name: 'on Redis',
    run: redisAvailable,
    settings: { redisUrl: TEST_REDIS_URL, redisNamespace: testRedisNamespace(randomUUID()) },
  },
];

describe.each(backends)('client-auth budget events $name', ({ run, settings }) => {
  let server: TestServer;
  let admin: string;
  beforeAll(async () => {
    if (!run) return;
    server = await startIssuer({ rateLimitAuth: `${FAILURES}/60s`, trustProxy: true, ...settings });
    admin = await adminToken(server);
  });

  /** A registered confidential client (a secret, `client_secret_basic`). */
  async function registered(): Promise<string> {
    const { client } = await registerClient(server, admin, {
      name: 'budget events',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      audiences: ['https://api.example'],
    });
    return client.client_id;
  }
  afterAll(async () => {
    await server?.close();
  });

  /** A wrong secret for `clientId` from `address`: 401 below the address's budget, 429 once it is spent. */
  async function wrongSecret(address: string, clientId: string): Promise<number> {
    const res = await postForm(
      server,
      '/oauth/introspect',
      { token: 'x.y.z' },
      { authorization: basic(clientId, 'guess'), 'x-forwarded-for': address },
    );
    return res.status;
  }

  /** The `rate_limited` events of failed client authentications (`client-auth` and `client-auth-client-id`). */
  async function budgetEvents(): Promise<{ ip: string | null; limit: unknown; clientId: unknown }[]> {
    const events = await server.app.jot.store.listSecurityEvents({ limit: 200, type: 'rate_limited' });
    return events
      .filter((e) => typeof e.detail.limit === 'string' && e.detail.limit.startsWith('client-auth'))
      .map((e) => ({ ip: e.ip, limit: e.detail.limit, clientId: e.detail.client_id }));
  }

  /** The events recorded with `address` (a write after the answer: waited for, with a deadline). */
  async function eventsWith(address: string): Promise<Awaited<ReturnType<typeof budgetEvents>>> {
    return waitFor(
      `an event with ${address}`,
      async () => {
        const found = (await budgetEvents()).filter((e) => e.ip === address);
        return found.length > 0 && found;
      },
      5_000,
    );
  }

  it.runIf(run)(
    'an address spending its budget on a client id already past max records its event',
    async () => {
      const clientId = await registered();
      // Many addresses guess one client's secret: its count passes max (the client id locks nothing).
      for (let i = 0; i <= FAILURES; i++) expect(await wrongSecret(freshAddress(), clientId)).toBe(401);
      const address = freshAddress();
      for (let i = 0; i < FAILURES; i++) expect(await wrongSecret(address, clientId)).toBe(401);
      // The address's budget is spent: it is locked (unchanged) — and its event recorded (before: none).
      expect(await wrongSecret(address, clientId)).toBe(429);
      expect(await eventsWith(address)).toEqual([{ ip: address, limit: 'client-auth', clientId: undefined }]);
      // One event for the client id, at its own max-th failure (from another address); none after.
      const forClient = (await budgetEvents()).filter((e) => e.clientId === clientId);
      expect(forClient).toEqual([{ ip: expect.any(String), limit: 'client-auth-client-id', clientId }]);
      expect(forClient[0]!.ip).not.toBe(address);
    },
  );

  it.runIf(run)(
    'a client id reaching max names the client id, not the address that failed once',
    async () => {
      const clientId = await registered();
      for (let i = 1; i < FAILURES; i++) expect(await wrongSecret(freshAddress(), clientId)).toBe(401);
      const address = freshAddress();
      // The client id's max-th failure, the address's first.
      expect(await wrongSecret(address, clientId)).toBe(401);
      // Before: a `client-auth` event for this address, whose budget was not spent.
      expect(await eventsWith(address)).toEqual([{ ip: address, limit: 'client-auth-client-id', clientId }]);
      // Nothing locks: neither the address (one failure) nor the client id (ids are public).
      expect(await wrongSecret(address, clientId)).toBe(401);
      expect(await wrongSecret(freshAddress(), clientId)).toBe(401);
    },
  );

  it.runIf(run)(
    'a claimed id that names no client, or a public one, is never written into an event',
    async () => {
      // `jot`: the server's own first-party public client (`none`: no secret to guess).
      const publicId = 'jot';
      // A secret pasted as the id (a misconfigured client), a long id, and a public client's id.
      const claims = [`s3cr3t-${randomUUID()}`, 'x'.repeat(300), publicId];
      const lastAddresses: string[] = [];
      for (const claimed of claims) {
        for (let i = 1; i < FAILURES; i++) expect(await wrongSecret(freshAddress(), claimed)).toBe(401);
        const address = freshAddress();
        lastAddresses.push(address);
        expect(await wrongSecret(address, claimed)).toBe(401);
      }
      // The address's budget events still arrive (for a control address that spends its own) ...
      const control = freshAddress();
      for (let i = 0; i < FAILURES; i++) expect(await wrongSecret(control, claims[0]!)).toBe(401);
      expect(await eventsWith(control)).toEqual([{ ip: control, limit: 'client-auth', clientId: undefined }]);
      // ... and none names a claimed id that is no client's that authenticates, nor was written for it.
      const all = await budgetEvents();
      for (const claimed of claims) expect(all.filter((e) => e.clientId === claimed)).toEqual([]);
      for (const address of lastAddresses) expect(all.filter((e) => e.ip === address)).toEqual([]);
      expect(JSON.stringify(all)).not.toContain(claims[0]);
    },
  );
});
