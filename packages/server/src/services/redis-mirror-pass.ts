/**
 * One publisher pass of the Redis revocation mirror, under the database lock `lock:redis_publisher` so instances
 * take turns: a full copy first when one is needed (at start, after a reconnect, or when the completeness marker
 * is gone), then every entry after the shared cursor `redis:published` is SET and PUBLISHed and the cursor moved.
 * A pass that caught up renews the marker's lease; only a full copy creates the marker (see `redis-mirror.ts`).
 */
import { randomUUID } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { completenessMarkerValue, parseCompletenessMarker, type RedisNames } from '@jot/contract';

import { toWire } from './feed-wire.js';
import { clearMirror, feedWentBack, mirroredCursorValue, parseMirroredCursor } from './redis-mirror-clear.js';
import { exec, mirrorPipeline, queueWrite } from './redis-mirror-writes.js';
import type { RevocationPage, Store } from '../store/index.js';

/** How long a completeness marker lives unless a caught-up pass renews it. */
export const MARKER_LEASE_MS = 10_000;
/** How long a deployment counts as writing the mirror after its last pass (every pass, about every second). */
export const WRITER_WINDOW_MS = 30_000;
/** Entries per Redis pipeline. */
const BATCH = 500;
/** At most one error log per instance per this long while the namespace is shared. */
const CONFLICT_LOG_INTERVAL_MS = 60_000;

// Every pass records its deployment (the same on every instance of one: from the KEK and issuer) in the writers set,
// scored with Redis's clock, and drops the ones not seen for WRITER_WINDOW_MS. More than one writer means two
// deployments write one mirror: neither's marker can vouch for the other's list, so the marker is deleted and none
// is written while both are seen; strict verifiers of both then refuse (or ask the server) instead of trusting a
// list that is not theirs. An instance of an earlier version records nothing, so an upgrade is no conflict.
// KEYS[1] writers, KEYS[2] marker; ARGV[1] deployment, ARGV[2] window. True when this deployment writes alone.
const WRITES_ALONE = `
local function writes_alone(writers, marker, deployment, window)
  local time = redis.call('TIME')
  local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
  redis.call('ZADD', writers, now, deployment)
  redis.call('ZREMRANGEBYSCORE', writers, '-inf', now - tonumber(window))
  redis.call('PEXPIRE', writers, window)
  if redis.call('ZCARD', writers) == 1 then return true end
  redis.call('DEL', marker)
  return false
end
`;

// At the start of a pass. 1: alone, 2: conflict.
const CLAIM = `${WRITES_ALONE}
if writes_alone(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 1 end
return 2
`;

// KEYS: sentinel, epoch. ARGV: the sentinel's lifetime. A copy's sentinel holds the copy epoch it started in (read
// and written in one step, so an epoch raised by an emptying of the mirror is never missed).
const START_COPY = `
redis.call('SET', KEYS[1], redis.call('GET', KEYS[2]) or '0', 'PX', ARGV[1])
return 1
`;

// The cursor the marker vouches for, recorded without expiry when known (ARGV[5]; '' when not).
const RECORD_MIRRORED = `
local function record_mirrored(key, cursor)
  if cursor ~= '' then redis.call('SET', key, cursor) end
end
`;

// KEYS: writers, marker, sentinel, epoch, mirrored. ARGV: deployment, window, marker, lease, mirrored cursor.
// Atomic in Redis: the marker is set only if the sentinel written before the copy is still there and holds the
// current copy epoch, so neither a Redis that restarted (and lost the sentinel) during the copy nor a mirror emptied
// during it (`redis-mirror-clear.ts`) ever gets a marker over a partial list. 1: set, 0: sentinel lost or from an
// earlier epoch, 2: conflict.
const SET_MARKER_IF_SENTINEL = `${WRITES_ALONE}${RECORD_MIRRORED}
if not writes_alone(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then
  redis.call('DEL', KEYS[3])
  return 2
end
local started = redis.call('GET', KEYS[3])
redis.call('DEL', KEYS[3])
if started and started == (redis.call('GET', KEYS[4]) or '0') then
  redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
  record_mirrored(KEYS[5], ARGV[5])
  return 1
end
return 0
`;

// KEYS: writers, marker, mirrored. ARGV: deployment, window, marker, lease, mirrored cursor.
// Renews an existing marker (never creates one: only a full copy does). 1: renewed, 0: no marker, 2: conflict.
const RENEW_MARKER = `${WRITES_ALONE}${RECORD_MIRRORED}
if not writes_alone(KEYS[1], KEYS[2], ARGV[1], ARGV[2]) then return 2 end
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[4])
record_mirrored(KEYS[3], ARGV[5])
return 1
`;

/** What a pass works with; `state` is shared with the mirror, which sets `closed` and `copyNeeded`. */
export interface MirrorPassContext {
  redis: Redis;
  store: Store;
  logger: FastifyBaseLogger;
  /** The keys of the deployment's namespace (`JOT_REDIS_NAMESPACE`). */
  names: RedisNames;
  /**
   * Who this deployment is, in the writers set and the marker (the same on every instance); undefined for a mirror
   * that only writes and publishes entries (the CLI's), never copying in full nor touching the marker.
   */
  deployment: string | undefined;
  state: {
    closed: boolean;
    copyNeeded: boolean;
    /** When each throttled log line was last written. */
    loggedAt?: { conflict?: number; movedOn?: number };
  };
}

/** Thrown by a pass that found another deployment writing this namespace's mirror. */
class NamespaceConflict extends Error {
  override readonly name = 'NamespaceConflict';
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

/**
 * Records this pass in the writers set; throws `NamespaceConflict` (the marker deleted) while another deployment
 * writes the namespace. A pass claims at its start and again after each page it writes: a copy of a long list can
 * outlast `WRITER_WINDOW_MS`, and a writer last seen at its start would drop out of the set while it still writes,
 * so another deployment arriving meanwhile would find itself alone and vouch for a list this copy is still writing.
 * A mirror that does not vouch (the CLI's) never claims.
 */
async function claim(ctx: MirrorPassContext): Promise<void> {
  const { redis, names, deployment } = ctx;
  if (deployment === undefined) return;
  const alone = await redis.eval(CLAIM, 2, names.writers, names.complete, deployment, WRITER_WINDOW_MS);
  if (alone !== 1) throw new NamespaceConflict();
}

/**
 * Copies every live entry, then sets the marker as `deployment` — unless Redis lost the sentinel meanwhile, or the
 * mirror was emptied since the copy started.
 */
async function fullCopy(ctx: MirrorPassContext, tx: Store, deployment: string): Promise<void> {
  const { redis, names, logger } = ctx;
  const sentinel = names.copying(randomUUID());
  await redis.eval(START_COPY, 2, sentinel, names.epoch, 10 * 60_000);
  let last: RevocationPage | undefined;
  for await (const page of feedPages(tx, undefined)) {
    const pipeline = mirrorPipeline(redis);
    for (const entry of page.entries) queueWrite(pipeline, names, entry, Date.now());
    await exec(pipeline);
    await claim(ctx);
    last = page;
  }
  const cursor = last?.cursor;
  const marker = markerValue(cursor, deployment);
  const set = await redis.eval(
    SET_MARKER_IF_SENTINEL,
    5,
    names.writers,
    names.complete,
    sentinel,
    names.epoch,
    names.mirrored,
    deployment,
    WRITER_WINDOW_MS,
    marker,
    MARKER_LEASE_MS,
    mirroredArg(last),
  );
  if (set === 2) throw new NamespaceConflict();
  if (set !== 1)
    throw new Error('Redis restarted, or the mirror was emptied, during the copy; copying again');
  logger.info({ cursor }, 'revocation list copied to Redis in full');
}

/**
 * SETs and PUBLISHes every entry after the shared cursor, then moves it (unless `moveCursor` is false); resolves the
 * final cursor. A cursor ahead of every id the store handed out (the database was reset or restored behind it) gets
 * a snapshot: all of it is published and the cursor follows the store back.
 */
async function publishSinceCursor(
  ctx: MirrorPassContext,
  tx: Store,
  moveCursor = true,
): Promise<RevocationPage | undefined> {
  const { redis, names, logger } = ctx;
  const stored = await tx.getClusterValue('redis:published');
  let cursor = stored;
  let last: RevocationPage | undefined;
  for await (const page of feedPages(tx, stored)) {
    last = page;
    if (page.snapshot)
      logger.warn({ stored, cursor: page.cursor }, 'the database is behind the Redis cursor');
    if (page.entries.length > 0) {
      const pipeline = mirrorPipeline(redis);
      const now = Date.now();
      for (const entry of page.entries) {
        queueWrite(pipeline, names, entry, now);
        pipeline.publish(names.channel, JSON.stringify(toWire(entry)));
      }
      await exec(pipeline);
      await claim(ctx);
    }
    cursor = page.cursor;
  }
  if (!moveCursor) return last;
  if (cursor < stored) await tx.resetClusterValue('redis:published', cursor);
  else if (cursor > stored) await tx.advanceClusterValue('redis:published', cursor);
  return last;
}

/**
 * Empties the mirror when the database went back behind the cursor last vouched for (restored from a backup, a
 * failover to a replica that lacked the last entries): the mirror holds keys of the lost history — revocations the
 * database no longer has, user states it no longer has, some from feed ids it will hand out again (which monotonic
 * writes would keep over the new entries) — which a copy would only add to. True
 * when it did (a full copy must follow). Never on a first copy (nothing recorded) nor on a rename (the cursor moved
 * on: the namespace lacks entries, it holds none too many).
 */
async function emptyIfWentBack(
  ctx: MirrorPassContext,
  tx: Store,
  rawMirrored: string | null,
  stored: number,
): Promise<boolean> {
  const { redis, names, logger } = ctx;
  const mirrored = parseMirroredCursor(rawMirrored);
  if (!(await feedWentBack(tx, mirrored, stored))) return false;
  const removed = await clearMirror(redis, names);
  logger.warn(
    { namespace: names.namespace, mirrored: mirrored?.id, cursor: stored, removed },
    `the database went back behind the revocations mirrored in the Redis namespace "${names.namespace}" ` +
      '(restored from a backup, or a failover): its keys were removed, copying in full',
  );
  return true;
}

/**
 * Publishes everything after the shared cursor; copies in full first if needed. False when it did not run, or when
 * another deployment writes this namespace (logged as an error, at most once a minute).
 */
export async function publisherPass(ctx: MirrorPassContext): Promise<boolean> {
  const { redis, store, names, state } = ctx;
  if (state.closed || redis.status !== 'ready') return false;
  const { deployment } = ctx;
  if (deployment === undefined) {
    // The shared cursor stays: the servers' next pass publishes these entries again (delivery is at least once)
    // to their namespace — which need not be this one (a CLI run without JOT_REDIS_NAMESPACE) — and their markers
    // never fall behind the cursor because of a CLI (see below).
    return store.withLock('lock:redis_publisher', async (tx) => {
      await publishSinceCursor(ctx, tx, false);
      return true;
    });
  }
  try {
    return await store.withLock('lock:redis_publisher', async (tx) => {
      // Another deployment writing this namespace: nothing is copied (it would be every pass) nor vouched for.
      await claim(ctx);
      // In full at start, after every reconnect (Redis may have restarted, or lost keys), whenever the marker is
      // gone, and when the shared cursor moved on without it: each pass leaves the marker at the cursor it reached,
      // so a marker behind the cursor means a pass published entries to another namespace (an instance of this
      // database with another JOT_REDIS_NAMESPACE: a rename rolling out) and never here. And after the mirror of a
      // database that went back was emptied.
      const stored = await tx.getClusterValue('redis:published');
      const [rawMarker, rawMirrored] = await redis.mget(names.complete, names.mirrored);
      const vouched = markerCursor(rawMarker ?? null);
      const emptied = await emptyIfWentBack(ctx, tx, rawMirrored ?? null, stored);
      if (!emptied && vouched !== undefined && vouched !== stored) {
        await redis.del(names.complete);
        logMovedOn(ctx, vouched, stored);
      }
      if (state.copyNeeded || emptied || vouched !== stored) {
        state.copyNeeded = false;
        await fullCopy(ctx, tx, deployment).catch((err: unknown) => {
          state.copyNeeded = true;
          throw err;
        });
      }
      const last = await publishSinceCursor(ctx, tx);
      // Caught up with the database: the mirror is complete, for another lease, at the cursor reached.
      const marker = markerValue(last?.cursor ?? stored, deployment);
      const renewed = await redis.eval(
        RENEW_MARKER,
        3,
        names.writers,
        names.complete,
        names.mirrored,
        deployment,
        WRITER_WINDOW_MS,
        marker,
        MARKER_LEASE_MS,
        mirroredArg(last),
      );
      if (renewed === 2) throw new NamespaceConflict();
      return true;
    });
  } catch (err) {
    if (!(err instanceof NamespaceConflict)) throw err;
    state.copyNeeded = true;
    logConflict(ctx);
    return false;
  }
}

/** The `mirrored` record of the cursor a page ended at ('' when there is no page, as with nothing to read). */
function mirroredArg(page: RevocationPage | undefined): string {
  if (page === undefined) return '';
  return mirroredCursorValue({ id: page.cursor, tag: page.cursorTag, createdAt: page.cursorCreatedAt });
}

/** The marker's value: the cursor it vouches for, when, and by which deployment. */
function markerValue(cursor: number | undefined, deployment: string): string {
  return completenessMarkerValue({ cursor, at: Date.now(), deployment });
}

/** Whether the log line `kind` is due (at most once per `CONFLICT_LOG_INTERVAL_MS` per instance); notes it if so. */
function logDue(state: MirrorPassContext['state'], kind: 'conflict' | 'movedOn'): boolean {
  const now = Date.now();
  const loggedAt = (state.loggedAt ??= {});
  const last = loggedAt[kind];
  if (last !== undefined && now - last < CONFLICT_LOG_INTERVAL_MS) return false;
  loggedAt[kind] = now;
  return true;
}

/**
 * The cursor a marker vouches for, or undefined when there is none or it cannot be read (then the pass copies in
 * full and writes a marker of its own over it). Read as strict verifiers read it (`@jot/contract`).
 */
function markerCursor(marker: string | null): number | undefined {
  return parseCompletenessMarker(marker)?.cursor;
}

/** The warning of a cursor that moved on without this namespace, at most once per `CONFLICT_LOG_INTERVAL_MS`. */
function logMovedOn({ logger, names, state }: MirrorPassContext, vouched: number, stored: number): void {
  if (!logDue(state, 'movedOn')) return;
  logger.warn(
    { namespace: names.namespace, marker: vouched, cursor: stored },
    `the revocations published from this database moved on without the Redis namespace "${names.namespace}" ` +
      '(an instance with another JOT_REDIS_NAMESPACE, or of an earlier version, published them): copying in full',
  );
}

/** The error of a shared namespace, at most once per `CONFLICT_LOG_INTERVAL_MS` per instance. */
function logConflict({ logger, names, state, deployment }: MirrorPassContext): void {
  if (!logDue(state, 'conflict')) return;
  logger.error(
    { code: 'ERR_REDIS_NAMESPACE_SHARED', namespace: names.namespace, deployment },
    'another Jot deployment (another JOT_KEK or JOT_ISSUER) writes the Redis revocation mirror under the namespace ' +
      `"${names.namespace}": neither list can be trusted as complete, so no completeness marker is written and ` +
      `strict verifiers refuse (or ask the server). Give each deployment its own JOT_REDIS_NAMESPACE (and the ` +
      `verifiers the same "revocation.namespace")`,
  );
}
