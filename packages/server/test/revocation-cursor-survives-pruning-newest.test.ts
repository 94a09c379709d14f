/**
 * Pruning can remove the NEWEST feed entries (a `jti` entry expires with its token, before older `sid`/`user`
 * entries that last a whole access-token lifetime). A cursor at such a pruned id is still a valid cursor — ids are
 * never reused — so the feed must not answer it with a snapshot (a needless `reset` for every stream client), and the
 * Redis publisher, whose shared cursor `redis:published` then lies above every remaining id, must finish its pass
 * instead of re-PUBLISHing the first page forever inside its lock transaction. A cursor truly ahead of the store (a
 * database reset) is still answered with a snapshot.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';

import { redisNames } from '@jot/contract';

import { publisherPass } from '../src/services/redis-mirror-pass.js';
import { feedCursorTag } from '../src/store/index.js';
import { openStore } from '../src/store/open.js';
import type { Store } from '../src/store/store.js';
import { requirePostgres } from './support/postgres.js';
import { cleanup, hasRedisServer, startTestRedis } from './support/processes.js';
import { silentLogger } from './support/silent-logger.js';

const T0 = 1_800_000_000_000;
const MIN = 60_000;

/** Long-lived entries, then one short-lived newest entry that the prune removes: the newest id is gone. */
async function pruneNewest(
  store: Store,
  longLived: number,
  beforePrune: () => Promise<unknown> = () => Promise.resolve(),
): Promise<number> {
  for (let i = 0; i < longLived; i++) {
    await store.addRevocation({ kind: 'sid', subject: `s${i}`, expiresAt: T0 + 15 * MIN }, T0);
  }
  const newest = await store.addRevocation({ kind: 'jti', subject: 'j', expiresAt: T0 + MIN }, T0);
  await beforePrune();
  expect(await store.pruneExpiredRevocations(T0 + 2 * MIN)).toBe(1);
  return newest.id;
}

function describeFeed(name: string, open: () => Promise<{ store: Store; done: () => Promise<void> }>): void {
  describe(`the feed after pruning its newest entries: ${name}`, () => {
    it('answers a cursor at a pruned id with no entries and the same cursor, not a snapshot', async () => {
      const { store, done } = await open();
      try {
        const newest = await pruneNewest(store, 3);
        const page = await store.listRevocationsSince(newest, 100, T0 + 2 * MIN);
        expect(page).toEqual({ entries: [], cursor: newest, hasMore: false, snapshot: false });
        // The next entry is delivered after it as usual.
        const next = await store.addRevocation({ kind: 'jti', subject: 'k', expiresAt: T0 + 9 * MIN }, T0);
        expect(await store.listRevocationsSince(newest, 100, T0 + 2 * MIN)).toEqual({
          entries: [next],
          cursor: next.id,
          cursorTag: feedCursorTag(next),
          cursorCreatedAt: T0,
          hasMore: false,
          snapshot: false,
        });
        // A cursor beyond every id ever handed out (a database reset or restore) still starts from scratch.
        const ahead = await store.listRevocationsSince(next.id + 1, 100, T0 + 2 * MIN);
        expect(ahead.snapshot).toBe(true);
        expect(ahead.cursor).toBe(next.id);
        expect(ahead.entries.map((e) => e.subject)).toEqual(['s0', 's1', 's2', 'k']);
      } finally {
        await done();
      }
    });

    it('answers any cursor on a store that never had an entry with a snapshot', async () => {
      const { store, done } = await open();
      try {
        expect(await store.listRevocationsSince(5, 100, T0)).toEqual({
          entries: [],
          cursor: 0,
          hasMore: false,
          snapshot: true,
        });
        expect((await store.listRevocationsSince(0, 100, T0)).snapshot).toBe(false);
      } finally {
        await done();
      }
    });
  });
}

describeFeed('sqlite', async () => {
  const store = await openStore({ url: ':memory:', dataDir: mkdtempSync(join(tmpdir(), 'jot-feed-')) });
  return { store, done: () => store.close() };
});

const pg = await requirePostgres('the feed after pruning its newest entry');
describe.runIf(pg !== undefined)('postgres', () => {
  afterAll(async () => {
    await pg?.drop();
  });
  describeFeed('postgres', async () => {
    const { url, schema } = pg!;
    const store = await openStore({ url, dataDir: tmpdir(), postgres: { schema } });
    // Each test starts on an empty table with a fresh id sequence.
    const { default: Pg } = await import('pg');
    const admin = new Pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query(`TRUNCATE ${schema}.revocations RESTART IDENTITY`);
    await admin.end();
    return { store, done: () => store.close() };
  });
});

const silent = silentLogger;

/** How long the subscriber may take to receive what a pass published. */
const DELIVERY_MS = 15_000;

describe.runIf(hasRedisServer('the publisher-after-pruning test'))(
  'the Redis publisher after pruning',
  () => {
    afterAll(cleanup);

    it('ends its pass, publishing nothing again, when the shared cursor is above every remaining id', async () => {
      let now = T0;
      const store = await openStore({ url: ':memory:', dataDir: tmpdir(), now: () => now });
      const server = await startTestRedis();
      const redis = new Redis(server.url, { maxRetriesPerRequest: 0 });
      const sub = new Redis(server.url);
      // A pass skips a Redis that is not connected yet (status "ready"); under load the connection can take longer
      // than the 601 revocations written below.
      await redis.ping();
      let published = 0;
      const names = redisNames();
      await sub.subscribe(names.channel);
      sub.on('message', () => (published += 1));
      const state = { closed: false, copyNeeded: true };
      const ctx = { redis, store, logger: silent, names, deployment: 'test', state };
      try {
        // More live entries than one publisher page (500), so a pass restarting from 0 would page forever.
        const newest = await pruneNewest(store, 600, () => publisherPass(ctx));
        // Pub/sub delivery is a deadline, not a speed check: expect.poll's default second was missed on a loaded machine.
        await expect.poll(() => published, { timeout: DELIVERY_MS }).toBe(601);
        published = 0;
        now += 2 * MIN;
        const outcome = await Promise.race([
          publisherPass(ctx).then(() => 'done'),
          new Promise((resolve) => setTimeout(() => resolve('still publishing after 5 s'), 5_000)),
        ]);
        if (outcome !== 'done') redis.disconnect(); // ends the spinning pass (its next pipeline fails)
        expect(outcome).toBe('done');
        expect(await store.getClusterValue('redis:published')).toBe(newest);
        expect(published).toBe(0);
        await expect(store.ping()).resolves.toBeUndefined();

        // A shared cursor ahead of every id (the database was reset behind it): everything live is published once
        // more and the cursor comes back to the store, so the next pass publishes nothing.
        await store.advanceClusterValue('redis:published', newest + 1000);
        await publisherPass(ctx);
        await expect.poll(() => published, { timeout: DELIVERY_MS }).toBe(600);
        expect(await store.getClusterValue('redis:published')).toBe(newest - 1);
        await publisherPass(ctx);
        expect(await store.getClusterValue('redis:published')).toBe(newest - 1);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(published).toBe(600);
      } finally {
        sub.disconnect();
        redis.disconnect();
        await store.close();
      }
    });
  },
);
