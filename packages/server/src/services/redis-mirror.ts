/**
 * Mirrors the revocation list into Redis so resource servers can check it there on every request (`@jot/verify`
 * strict mode) without calling the auth server. The database stays the source of truth: every entry this server
 * adds is written through (and published on a channel), and the whole live list is copied again at start and after
 * every reconnect, so a Redis restart loses nothing for long. Keys expire with the entries (`PXAT`).
 *
 * Keys: `jot:rev:jti:<jti>` = "1", `jot:rev:sid:<sid>` = "1", `jot:rev:user:<user id>` = JSON
 * `{ valid_after, ver, status }` (the user's current state); channel `jot:revocations` carries each feed entry.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { toWire } from '../http/feed-wire.js';
import type { Revocation, Store } from '../store/index.js';
import type { RevocationService } from './revocation.js';

/** Redis key names shared with `@jot/verify`. */
export const REDIS_KEYS = {
  jti: (jti: string): string => `jot:rev:jti:${jti}`,
  sid: (sid: string): string => `jot:rev:sid:${sid}`,
  user: (userId: string): string => `jot:rev:user:${userId}`,
  channel: 'jot:revocations',
} as const;

/** A running mirror. */
export interface RedisMirror {
  /** Copies every live entry (at start, and after reconnects). */
  resync(): Promise<number>;
  close(): void;
}

async function write(redis: Redis, entry: Revocation): Promise<void> {
  if (entry.expiresAt <= Date.now()) return;
  if (entry.kind === 'user') {
    await redis.set(REDIS_KEYS.user(entry.subject), JSON.stringify(entry.data), 'PXAT', entry.expiresAt);
  } else {
    await redis.set(
      entry.kind === 'jti' ? REDIS_KEYS.jti(entry.subject) : REDIS_KEYS.sid(entry.subject),
      '1',
      'PXAT',
      entry.expiresAt,
    );
  }
}

/** Starts mirroring `revocations` into `redis`. */
export async function createRedisMirror(
  redis: Redis,
  store: Store,
  revocations: RevocationService,
  logger: FastifyBaseLogger,
): Promise<RedisMirror> {
  async function resync(): Promise<number> {
    let cursor: number | undefined;
    let count = 0;
    for (;;) {
      const page = await store.listRevocationsSince(cursor, 1000);
      for (const entry of page.entries) await write(redis, entry);
      count += page.entries.length;
      cursor = page.cursor;
      if (!page.hasMore) return count;
    }
  }

  const mirror = (entry: Revocation): Promise<void> =>
    write(redis, entry)
      .then(() => redis.publish(REDIS_KEYS.channel, JSON.stringify(toWire(entry))))
      .then(
        () => undefined,
        (err: unknown) =>
          logger.warn(
            { err },
            'mirroring a revocation to Redis failed; it will be copied at the next resync',
          ),
      );
  // Redis may have lost data while we were disconnected (a restart without persistence): copy everything again.
  let lostConnection = false;
  const onReady = (): void => {
    if (!lostConnection) return;
    lostConnection = false;
    resync().catch((err: unknown) => logger.warn({ err }, 'Redis resync failed'));
  };
  const onEnd = (): void => {
    lostConnection = true;
  };
  await resync();
  const removeSink = revocations.addSink(mirror);
  redis.on('ready', onReady);
  redis.on('reconnecting', onEnd);
  return {
    resync,
    close() {
      removeSink();
      redis.off('ready', onReady);
      redis.off('reconnecting', onEnd);
    },
  };
}
