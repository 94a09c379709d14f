/**
 * Mirrors the revocation list into Redis so resource servers can check it there on every request (`@jot/verify`
 * strict mode) without calling the auth server, and publishes every entry on a channel. The database stays the
 * source of truth and is the outbox: Redis only ever gets what the database already holds, so nothing is lost when
 * Redis is down, restarts empty, or an instance dies.
 *
 * - Write-through: an entry this server adds is SET at once (the revoking request waits for it, bounded).
 * - Publisher pass (after each local entry, and every `PASS_INTERVAL_MS` on every instance, under a database lock
 *   so instances take turns): SETs and PUBLISHes every entry after the shared cursor `redis:published` and moves the
 *   cursor. Entries revoked while Redis was unreachable are published when it is back; delivery is at least once
 *   (an entry may be published twice after a crash mid-pass — each carries its id).
 * - Full copy: at start, after every reconnect, and whenever the marker is missing.
 * - Completeness marker `jot:rev:complete` (`{ cursor, at }`, expiring after `MARKER_LEASE_MS`): written only after a
 *   full copy of the live list, and kept alive only by passes that caught up with the database. A Redis that lost
 *   its data has no marker, so strict verifiers can tell an empty mirror from a complete one (and refuse, or ask the
 *   server). The copy takes a sentinel key first and sets the marker only if the sentinel survived, so a Redis that
 *   restarts during the copy never gets a marker over a partial list.
 *
 * Keys: `jot:rev:jti:<jti>` = "1", `jot:rev:sid:<sid>` = "1", `jot:rev:user:<user id>` = JSON
 * `{ valid_after, ver, status }`; all expire with their entries (`PXAT`).
 */
import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { ChainableCommander, Redis } from 'ioredis';

import { REDIS_KEYS } from '@jot/contract';

import { toWire } from './feed-wire.js';
import type { Revocation, Store } from '../store/index.js';
import type { RevocationService } from './revocation.js';

/** How long a completeness marker lives unless a caught-up pass renews it. */
export const MARKER_LEASE_MS = 10_000;
/** How often every instance runs a publisher pass. */
const PASS_INTERVAL_MS = 1_000;
/** Entries per Redis pipeline. */
const BATCH = 500;

const SET_MARKER_IF_SENTINEL = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('SET', KEYS[2], ARGV[1], 'PX', ARGV[2])
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/** A running mirror. */
export interface RedisMirror {
  /** Runs a publisher pass now (resolves whether Redis is caught up; never rejects). */
  sync(): Promise<boolean>;
  close(): void;
}

function queueWrite(pipeline: ChainableCommander, entry: Revocation, now: number): void {
  if (entry.expiresAt <= now) return;
  if (entry.kind === 'user') {
    pipeline.set(REDIS_KEYS.user(entry.subject), JSON.stringify(entry.data), 'PXAT', entry.expiresAt);
  } else {
    const key = entry.kind === 'jti' ? REDIS_KEYS.jti(entry.subject) : REDIS_KEYS.sid(entry.subject);
    pipeline.set(key, '1', 'PXAT', entry.expiresAt);
  }
}

async function exec(pipeline: ChainableCommander): Promise<void> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
}

/** Starts mirroring `revocations` into `redis`; the first pass runs before it resolves (failures are logged). */
export async function createRedisMirror(
  redis: Redis,
  store: Store,
  revocations: RevocationService,
  logger: FastifyBaseLogger,
): Promise<RedisMirror> {
  let closed = false;
  let running: Promise<boolean> | undefined;
  let queued: Promise<boolean> | undefined;
  let healthy = true;
  let copyNeeded = true;

  /** Copies every live entry, then sets the marker — unless Redis lost the sentinel meanwhile. */
  async function fullCopy(tx: Store): Promise<void> {
    const sentinel = `jot:rev:copying:${randomUUID()}`;
    await redis.set(sentinel, '1', 'PX', 10 * 60_000);
    let cursor: number | undefined;
    for (;;) {
      const page = await tx.listRevocationsSince(cursor, BATCH);
      const pipeline = redis.pipeline();
      for (const entry of page.entries) queueWrite(pipeline, entry, Date.now());
      await exec(pipeline);
      cursor = page.cursor;
      if (!page.hasMore) break;
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

  /** Publishes everything after the shared cursor; copies in full first if the marker is gone. */
  async function pass(): Promise<boolean> {
    if (closed || redis.status !== 'ready') return false;
    return store.withLock('lock:redis_publisher', async (tx) => {
      // In full at start, after every reconnect (Redis may have restarted, or lost keys), and whenever the marker
      // is gone.
      const copied = copyNeeded || (await redis.exists(REDIS_KEYS.complete)) === 0;
      if (copied) {
        copyNeeded = false;
        await fullCopy(tx).catch((err: unknown) => {
          copyNeeded = true;
          throw err;
        });
      }
      let cursor = await tx.getClusterValue('redis:published');
      for (;;) {
        const page = await tx.listRevocationsSince(cursor, BATCH);
        if (page.entries.length > 0) {
          const pipeline = redis.pipeline();
          const now = Date.now();
          for (const entry of page.entries) {
            queueWrite(pipeline, entry, now);
            pipeline.publish(REDIS_KEYS.channel, JSON.stringify(toWire(entry)));
          }
          await exec(pipeline);
        }
        cursor = await tx.advanceClusterValue('redis:published', page.cursor);
        if (!page.hasMore) break;
      }
      // Caught up with the database: the mirror is complete, for another lease.
      if (!copied) {
        const marker = JSON.stringify({ cursor, at: Date.now() });
        await redis.set(REDIS_KEYS.complete, marker, 'PX', MARKER_LEASE_MS, 'XX');
      }
      return true;
    });
  }

  /** One pass at a time per instance; a request during a pass is served by one more pass after it. */
  function sync(): Promise<boolean> {
    if (running === undefined) {
      running = pass()
        .then(
          (ok) => {
            if (ok && !healthy) logger.info('Redis revocation mirror caught up');
            healthy ||= ok;
            return ok;
          },
          (err: unknown) => {
            if (healthy) logger.warn({ err }, 'publishing revocations to Redis failed; will retry');
            healthy = false;
            return false;
          },
        )
        .finally(() => {
          running = undefined;
        });
      return running;
    }
    queued ??= running.then(() => {
      queued = undefined;
      return sync();
    });
    return queued;
  }

  // The write-through: SET at once (strict verifiers see it before the client hears the logout succeeded), then a
  // pass publishes it and moves the cursor.
  const writeThrough = async (entry: Revocation): Promise<void> => {
    try {
      if (redis.status !== 'ready') throw new Error('Redis is not connected');
      const pipeline = redis.pipeline();
      queueWrite(pipeline, entry, Date.now());
      await exec(pipeline);
    } catch (err) {
      logger.warn({ err }, 'writing a revocation to Redis failed; it is published when Redis answers again');
    }
    void sync();
  };
  const onReady = (): void => {
    void sync();
  };
  const onLost = (): void => {
    copyNeeded = true;
  };
  await sync();
  const removeSink = revocations.addSink(writeThrough);
  redis.on('ready', onReady);
  redis.on('reconnecting', onLost);
  const timer = setInterval(() => void sync(), PASS_INTERVAL_MS);
  timer.unref();
  return {
    sync,
    close() {
      closed = true;
      clearInterval(timer);
      removeSink();
      redis.off('ready', onReady);
      redis.off('reconnecting', onLost);
    },
  };
}
