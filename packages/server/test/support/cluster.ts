/**
 * Test helper: several Jot instances as one deployment runs them — each with its own connection pool over ONE
 * PostgreSQL schema (a fresh one per cluster), all sharing one Redis and one `JOT_KEK` — plus the helpers the
 * single-use tests race them with: fire one artefact at every instance at once and sort the answers.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { expect } from 'vitest';

import { openStore, type Store } from '../../src/index.js';
import type { Settings } from '../../src/config/index.js';
import { createTestSchema, requirePostgres } from './postgres.js';
import { requireRedis, TEST_REDIS_URL, testRedisNamespace } from './redis.js';
import { startServer, type TestResponse, type TestServer } from './jot-server.js';

/** What every instance of a cluster gets: limits out of the way (these tests are about atomicity, not throttling). */
export const CLUSTER_SETTINGS: Settings = {
  rateLimitAuth: '100000/min',
  loginLockout: '100000/1s',
  rateLimitClient: '100000/min',
  rateLimitMail: '1000/15m',
  mfaAccountLimit: '100000/15m',
  // Every instance answers to one external URL, as behind a load balancer, so one DPoP proof fits all of them.
  externalUrl: 'http://jot.test',
};

/** N instances over one database and one Redis. */
export interface Cluster {
  instances: TestServer[];
  /** The store of the first instance (for reading what happened). */
  store: Store;
  close(): Promise<void>;
}

/**
 * Whether PostgreSQL and Redis are both there: in CI a missing one fails the suite; elsewhere the suite is skipped
 * with a visible message.
 */
export async function clusterBackendsAvailable(suite: string): Promise<boolean> {
  const probe = await requirePostgres(suite);
  if (probe === undefined) return false;
  await probe.drop();
  return requireRedis(suite);
}

/**
 * Starts `count` instances (one after the other: the first creates the signing keys, the others load them) on a new
 * schema, with `settings` over {@link CLUSTER_SETTINGS}, `JOT_REDIS_URL` and one KEK. `clock` is every instance's
 * and every store's clock.
 */
export async function startCluster(
  settings: Settings = {},
  options: { count?: number; clock?: () => number } = {},
): Promise<Cluster> {
  const schema = await createTestSchema();
  if ('error' in schema) throw new Error(`PostgreSQL: ${schema.error}`);
  const kek = randomBytes(32).toString('base64url');
  const instances: TestServer[] = [];
  const stores: Store[] = [];
  const dirs: string[] = [];
  const close = async (): Promise<void> => {
    for (const server of instances) await server.close({ keepData: true });
    for (const store of stores) await store.close();
    await schema.drop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < (options.count ?? 2); i++) {
      const dataDir = mkdtempSync(join(tmpdir(), `jot-cluster-${i}-`));
      dirs.push(dataDir);
      const store = await openStore({
        url: schema.url,
        dataDir,
        postgres: { schema: schema.schema },
        now: options.clock,
      });
      stores.push(store);
      instances.push(
        await startServer(
          {
            ...CLUSTER_SETTINGS,
            kek,
            redisUrl: TEST_REDIS_URL,
            redisNamespace: testRedisNamespace(schema.schema),
            ...settings,
          },
          { dataDir, store, clock: options.clock },
        ),
      );
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { instances, store: stores[0]!, close };
}

/**
 * Sends `attempts` requests at once, spread round the instances (attempt i to instance i mod N); `send` makes
 * attempt i against its instance. Resolves to the answers in attempt order.
 */
export function fireAtAll(
  instances: readonly TestServer[],
  attempts: number,
  send: (server: TestServer, attempt: number) => Promise<TestResponse>,
): Promise<TestResponse[]> {
  return Promise.all(Array.from({ length: attempts }, (_, i) => send(instances[i % instances.length]!, i)));
}

/** A compact view of an answer, for assertions that print well. */
export const outcome = (res: TestResponse): { status: number; code: unknown } => ({
  status: res.status,
  code: typeof res.body === 'object' && res.body !== null ? res.body.code : undefined,
});

/**
 * Exactly one answer is `winner` (a status); every other one is `loser.status` with one of `loser.codes` (or, for
 * losers refused in more than one way, one of the `{ status, code }` pairs of `loser.outcomes`) — never a 5xx.
 * Returns the index of the winning attempt.
 */
export function expectOneWinner(
  results: readonly TestResponse[],
  winner: number,
  loser:
    { status: number; codes: readonly string[] } | { outcomes: readonly { status: number; code: string }[] },
): number {
  const outcomes = results.map(outcome);
  expect(
    outcomes.filter((o) => o.status >= 500),
    JSON.stringify(outcomes),
  ).toEqual([]);
  const winners = outcomes.flatMap((o, i) => (o.status === winner ? [i] : []));
  expect(winners, JSON.stringify(outcomes)).toHaveLength(1);
  for (const [i, o] of outcomes.entries()) {
    if (i === winners[0]) continue;
    if ('outcomes' in loser) {
      expect(loser.outcomes, JSON.stringify(outcomes)).toContainEqual(o);
      continue;
    }
    expect(o.status, JSON.stringify(outcomes)).toBe(loser.status);
    expect(loser.codes, JSON.stringify(outcomes)).toContain(o.code);
  }
  return winners[0]!;
}

/** Polls `check` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  check: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Waits until the outbox holds no message still to be sent (every instance's sender is done with it). */
export async function outboxDrained(store: Store, timeoutMs = 20_000): Promise<void> {
  await until(
    'the outbox to drain',
    async () => {
      const pending = await store.listOutbox({ status: 'pending', limit: 1 });
      const failed = await store.listOutbox({ status: 'failed', limit: 1 });
      if (failed.length > 0) throw new Error(`a message failed: ${failed[0]!.lastError}`);
      return pending.length === 0 ? true : undefined;
    },
    timeoutMs,
  );
}

/** How many security events of `type` the user has. */
export async function eventCount(store: Store, type: string, userId: string): Promise<number> {
  return (await store.listSecurityEvents({ limit: 500, type, userId })).length;
}
