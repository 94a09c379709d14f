/**
 * The Redis writes of the revocation mirror: one entry queued as its key (`<namespace>:rev:jti:`, `…:rev:sid:` or
 * `…:rev:user:`, expiring with the entry via `PXAT`), a pipeline run so that any failed command fails the whole
 * step, and the write-through of a single entry this server just added.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ChainableCommander, Redis } from 'ioredis';

import type { RedisNames } from '@jot/contract';

import type { Revocation } from '../store/index.js';

/** Queues the SET of `entry` (nothing for an entry already expired at `now`). */
export function queueWrite(
  pipeline: ChainableCommander,
  names: RedisNames,
  entry: Revocation,
  now: number,
): void {
  if (entry.expiresAt <= now) return;
  if (entry.kind === 'user') {
    pipeline.set(names.user(entry.subject), JSON.stringify(entry.data), 'PXAT', entry.expiresAt);
  } else {
    const key = entry.kind === 'jti' ? names.jti(entry.subject) : names.sid(entry.subject);
    pipeline.set(key, '1', 'PXAT', entry.expiresAt);
  }
}

/** Runs `pipeline`; rejects with the first command's error (ioredis resolves per-command errors instead). */
export async function exec(pipeline: ChainableCommander): Promise<void> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
}

/**
 * SETs one entry at once, so strict verifiers see it before the client hears the logout succeeded. Never rejects:
 * a failure is logged, and the next publisher pass writes the entry when Redis answers again.
 */
export async function writeEntryNow(
  redis: Redis,
  names: RedisNames,
  entry: Revocation,
  logger: FastifyBaseLogger,
): Promise<void> {
  try {
    if (redis.status !== 'ready') throw new Error('Redis is not connected');
    const pipeline = redis.pipeline();
    queueWrite(pipeline, names, entry, Date.now());
    await exec(pipeline);
  } catch (err) {
    logger.warn({ err }, 'writing a revocation to Redis failed; it is published when Redis answers again');
  }
}
