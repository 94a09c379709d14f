/**
 * The "budget spent" `rate_limited` events of failed client authentications (plugins/caller-limits.ts) at
 * `/oauth/introspect`: a failure is counted per address (the budget that locks, `detail.limit` `client-auth`) and per
 * claimed client id (only counted, `client-auth-client-id` with the id), and each key's event is recorded at THAT
 * key's `max`th failure — in this instance's memory and on Redis alike.
 *
 * Regression: the event was recorded when the largest of the two counts was exactly `max`. An address whose
 * failures claimed a client id already past `max` (one under attack from many addresses) spent its budget — and was
 * locked — with no event; and an address failing once, for a client id at its `max`th, got a `client-auth` event for
 * a budget it had not spent.
 */
import { randomInt, randomUUID } from 'node:crypto';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import type { TestServer } from './support/jot-server.js';
import { postForm, startIssuer } from './support/oauth.js';
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
  beforeAll(async () => {
    if (run) server = await startIssuer({ rateLimitAuth: `${FAILURES}/60s`, trustProxy: true, ...settings });
  });
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
      const clientId = `attacked-${randomUUID()}`;
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
      const clientId = `targeted-${randomUUID()}`;
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
});
