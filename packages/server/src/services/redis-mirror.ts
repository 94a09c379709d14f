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
 * `{ valid_after, ver, status }`; all expire with their entries (`PXAT`). The pass is `redis-mirror-pass.ts`, its
 * scheduling `redis-mirror-sync.ts`, the Redis writes `redis-mirror-writes.ts`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { publisherPass, type MirrorPassContext } from './redis-mirror-pass.js';
import { serialisedPasses } from './redis-mirror-sync.js';
import { writeEntryNow } from './redis-mirror-writes.js';
import type { Revocation, Store } from '../store/index.js';
import type { RevocationService } from './revocation.js';

/** How often every instance runs a publisher pass. */
const PASS_INTERVAL_MS = 1_000;

/** A running mirror. */
export interface RedisMirror {
  /** Runs a publisher pass now (resolves whether Redis is caught up; never rejects). */
  sync(): Promise<boolean>;
  close(): void;
}

/** Starts mirroring `revocations` into `redis`; the first pass runs before it resolves (failures are logged). */
export async function createRedisMirror(
  redis: Redis,
  store: Store,
  revocations: RevocationService,
  logger: FastifyBaseLogger,
): Promise<RedisMirror> {
  const ctx: MirrorPassContext = { redis, store, logger, state: { closed: false, copyNeeded: true } };
  const sync = serialisedPasses(() => publisherPass(ctx), logger);

  // The write-through: SET at once, then a pass publishes the entry and moves the cursor.
  const writeThrough = async (entry: Revocation): Promise<void> => {
    await writeEntryNow(redis, entry, logger);
    void sync();
  };
  const onReady = (): void => {
    void sync();
  };
  const onLost = (): void => {
    ctx.state.copyNeeded = true;
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
      ctx.state.closed = true;
      clearInterval(timer);
      removeSink();
      redis.off('ready', onReady);
      redis.off('reconnecting', onLost);
    },
  };
}
