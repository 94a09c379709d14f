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
 * - Full copy: at start, after every reconnect, whenever the marker is missing, and whenever the shared cursor moved
 *   past the cursor in the marker (every pass leaves the marker at the cursor it reached, so the cursor moving on
 *   without it means a pass published to another namespace: an instance of this database with another
 *   `JOT_REDIS_NAMESPACE`, whose entries this namespace would otherwise never get).
 * - Emptied first when the database went back (restored, or a failover) behind the cursor the marker last vouched
 *   for (`<ns>:rev:mirrored`): the lost history's keys would otherwise stay (`redis-mirror-clear.ts`).
 * - Completeness marker `<ns>:rev:complete` (`{ cursor, at, deployment }`, expiring after `MARKER_LEASE_MS`; `<ns>`
 *   is `JOT_REDIS_NAMESPACE`, `jot` by default): written only after a
 *   full copy of the live list, and kept alive only by passes that caught up with the database. A Redis that lost
 *   its data has no marker, so strict verifiers can tell an empty mirror from a complete one (and refuse, or ask the
 *   server). The copy takes a sentinel key first and sets the marker only if the sentinel survived, so a Redis that
 *   restarts during the copy never gets a marker over a partial list.
 *
 * - One deployment per namespace: every pass records its deployment (from the KEK and issuer) in `<ns>:rev:writers`;
 *   while another deployment is seen writing the same namespace no marker is written (both lists are mixed, so
 *   neither is known complete) and an error names the fix, `JOT_REDIS_NAMESPACE`. That check goes with Redis's
 *   data: after Redis lost it, the first deployment to copy finds itself alone. The marker names its deployment, so
 *   a strict verifier trusts only its own deployment's marker (`revocation.deployment`, or the first one it read).
 *
 * Keys: `<ns>:rev:jti:<jti>` = "1", `<ns>:rev:sid:<sid>` = "1", `<ns>:rev:user:<user id>` = JSON
 * `{ valid_after, ver, status, id }`; all expire with their entries, and no write weakens a key (a shorter expiry, a
 * lower cut-off or version, an older entry's status: `redis-mirror-writes.ts`). Channel: `<ns>:revocations`. The
 * pass is `redis-mirror-pass.ts`, its scheduling `redis-mirror-sync.ts`, the Redis writes `redis-mirror-writes.ts`.
 */
import { hkdfSync } from 'node:crypto';

import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { redisNames } from '@jot/contract';

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

/** What the mirror needs. */
export interface RedisMirrorDeps {
  redis: Redis;
  store: Store;
  revocations: RevocationService;
  logger: FastifyBaseLogger;
  /** `JOT_REDIS_NAMESPACE`. */
  namespace: string;
  /**
   * The deployment whose mirror this is (a server): it copies the list in full, keeps the completeness marker and
   * records itself as the namespace's writer. Without it (the CLI, whose KEK may not be the deployment's for
   * commands that do not need it) entries are written through and published, and nothing else: the servers vouch.
   */
  deployment?: { kek: Buffer; issuer: string };
}

/**
 * The id every instance of one deployment writes as: HKDF of the KEK (one-way: reveals nothing of it) over the
 * issuer, both of which every instance of a deployment shares — so a copy of a deployment's database and KEK
 * running as another issuer (a staging clone) is another deployment. Written into the completeness marker, logged at
 * start, printed by `jot redis deployment-id`, and what strict verifiers are given as `revocation.deployment`.
 */
export function deploymentId(kek: Buffer, issuer: string): string {
  const info = `jot redis deployment v1\n${issuer}`;
  return Buffer.from(hkdfSync('sha256', kek, Buffer.alloc(0), info, 12)).toString('base64url');
}

/** Starts mirroring `revocations` into `redis`; the first pass runs before it resolves (failures are logged). */
export async function createRedisMirror(deps: RedisMirrorDeps): Promise<RedisMirror> {
  const { redis, store, revocations, logger } = deps;
  const names = redisNames(deps.namespace);
  const ctx: MirrorPassContext = {
    redis,
    store,
    logger,
    names,
    deployment: deps.deployment && deploymentId(deps.deployment.kek, deps.deployment.issuer),
    state: { closed: false, copyNeeded: true },
  };
  if (ctx.deployment !== undefined) {
    // What an operator gives strict verifiers as `revocation.deployment` (derived one-way: the KEK is not in it).
    logger.info(
      { namespace: names.namespace, deployment: ctx.deployment },
      `Redis revocation mirror in the namespace "${names.namespace}", written as the deployment ` +
        `"${ctx.deployment}": give strict verifiers revocation: { namespace: "${names.namespace}", deployment: ` +
        `"${ctx.deployment}" } so they trust no other deployment's mirror`,
    );
  }
  const sync = serialisedPasses(() => publisherPass(ctx), logger);

  // The write-through: SET at once, then a pass publishes the entry and moves the cursor.
  const writeThrough = async (entry: Revocation): Promise<void> => {
    await writeEntryNow(redis, names, entry, logger);
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
