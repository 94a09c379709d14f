/**
 * One publisher pass of the Redis revocation mirror, under the database lock `lock:redis_publisher` so instances
 * take turns: a full copy first when one is needed (at start, after a reconnect, or when the completeness marker
 * is gone), then every entry after the shared cursor `redis:published` is SET and PUBLISHed and the cursor moved.
 * A pass that caught up renews the marker's lease; only a full copy creates the marker (see `redis-mirror.ts`).
 */
import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { REDIS_KEYS } from '@jot/contract';

import { toWire } from './feed-wire.js';
import { exec, queueWrite } from './redis-mirror-writes.js';
import type { RevocationPage, Store } from '../store/index.js';

/** How long a completeness marker lives unless a caught-up pass renews it. */
export const MARKER_LEASE_MS = 10_000;
/** Entries per Redis pipeline. */
const BATCH = 500;

// Atomic in Redis: the marker is set only if the sentinel written before the copy is still there, so a Redis that
// restarted (and lost the sentinel) during the copy never gets a marker over a partial list.
const SET_MARKER_IF_SENTINEL = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** What a pass works with; `state` is shared with the mirror, which sets `closed` and `copyNeeded`. */
export interface MirrorPassContext {
  redis: Redis;
  store: Store;
  logger: FastifyBaseLogger;
  state: { closed: boolean; copyNeeded: boolean };
}

/**
 * The feed's pages from `from` on, each read from where the previous one ended (never from a stored cursor, which
 * may not move), so a pass always ends. Only the first page may be a snapshot; a later one would restart from 0.
 */
async function* feedPages(tx: Store, from: number | undefined): AsyncGenerator<RevocationPage> {
  let cursor = from;
  for (let first = true; ; first = false) {
    const page = await tx.listRevocationsSince(cursor, BATCH);
    if (page.snapshot && !first) throw new Error('the revocation feed restarted in the middle of a pass');
    yield page;
    if (!page.hasMore) return;
    cursor = page.cursor;
  }
}

/** Copies every live entry, then sets the marker — unless Redis lost the sentinel meanwhile. */
async function fullCopy(redis: Redis, tx: Store, logger: FastifyBaseLogger): Promise<void> {
  const sentinel = `jot:rev:copying:${randomUUID()}`;
  await redis.set(sentinel, '1', 'PX', 10 * 60_000);
  let cursor: number | undefined;
  for await (const page of feedPages(tx, undefined)) {
    const pipeline = redis.pipeline();
    for (const entry of page.entries) queueWrite(pipeline, entry, Date.now());
    await exec(pipeline);
    cursor = page.cursor;
  }
  const marker = JSON.stringify({ cursor, at: Date.now() });
  const set = await redis.eval(
    SET_MARKER_IF_SENTINEL,
    2,
    sentinel,
    REDIS_KEYS.complete,
    marker,
    MARKER_LEASE_MS,
  );
  if (set !== 1) throw new Error('Redis restarted during the copy; copying again');
  logger.info({ cursor }, 'revocation list copied to Redis in full');
}

/**
 * SETs and PUBLISHes every entry after the shared cursor, then moves it; resolves the final cursor. A cursor ahead
 * of every id the store handed out (the database was reset or restored behind it) gets a snapshot: all of it is
 * published and the cursor follows the store back.
 */
async function publishSinceCursor(redis: Redis, tx: Store, logger: FastifyBaseLogger): Promise<number> {
  const stored = await tx.getClusterValue('redis:published');
  let cursor = stored;
  for await (const page of feedPages(tx, stored)) {
    if (page.snapshot)
      logger.warn({ stored, cursor: page.cursor }, 'the database is behind the Redis cursor');
    if (page.entries.length > 0) {
      const pipeline = redis.pipeline();
      const now = Date.now();
      for (const entry of page.entries) {
        queueWrite(pipeline, entry, now);
        pipeline.publish(REDIS_KEYS.channel, JSON.stringify(toWire(entry)));
      }
      await exec(pipeline);
    }
    cursor = page.cursor;
  }
  if (cursor < stored) await tx.resetClusterValue('redis:published', cursor);
  else if (cursor > stored) await tx.advanceClusterValue('redis:published', cursor);
  return cursor;
}

/** Publishes everything after the shared cursor; copies in full first if needed. False when it did not run. */
export async function publisherPass(ctx: MirrorPassContext): Promise<boolean> {
  const { redis, store, logger, state } = ctx;
  if (state.closed || redis.status !== 'ready') return false;
  return store.withLock('lock:redis_publisher', async (tx) => {
    // In full at start, after every reconnect (Redis may have restarted, or lost keys), and whenever the marker
    // is gone.
    const copied = state.copyNeeded || (await redis.exists(REDIS_KEYS.complete)) === 0;
    if (copied) {
      state.copyNeeded = false;
      await fullCopy(redis, tx, logger).catch((err: unknown) => {
        state.copyNeeded = true;
        throw err;
      });
    }
    const cursor = await publishSinceCursor(redis, tx, logger);
    // Caught up with the database: the mirror is complete, for another lease.
    if (!copied) {
      const marker = JSON.stringify({ cursor, at: Date.now() });
      await redis.set(REDIS_KEYS.complete, marker, 'PX', MARKER_LEASE_MS, 'XX');
    }
    return true;
  });
}
