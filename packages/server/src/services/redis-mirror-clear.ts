/**
 * Emptying a namespace's revocation mirror when the database went back (restored from a backup, or a failover to a
 * replica that lacked the last entries): Redis still holds keys of the lost history — revocations the database no
 * longer has, and user entries whose `status` comes from a feed id higher than any the restored database will hand
 * out for a while (monotonic writes would keep it over newer entries). Copying in full adds to what is there, so
 * those keys are removed first.
 *
 * The order keeps strict verifiers off a half state: the marker goes first (they refuse, or ask the server), then
 * the copy epoch is raised, so a copy that started earlier (a pass that lost its database lock while still writing)
 * cannot write a marker over the emptied list, then the entry keys go (SCAN and UNLINK in batches, this namespace's
 * `jti`, `sid` and `user` keys only), and only then the record of the lost cursor: a pass that fails midway leaves
 * it, and the next pass empties the mirror again. A full copy follows, and its marker.
 */
import type { Redis } from 'ioredis';

import type { RedisNames } from '@jot/contract';

import type { FeedCursor, Store } from '../store/index.js';

/** Keys per SCAN step and per UNLINK. */
const CLEAR_BATCH = 500;

/** The cursor recorded in `names.mirrored`, or undefined when there is none or it cannot be read. */
export function parseMirroredCursor(raw: string | null): FeedCursor | undefined {
  if (raw === null) return undefined;
  try {
    const value: unknown = JSON.parse(raw);
    if (typeof value !== 'object' || value === null) return undefined;
    const { id, tag, createdAt } = value as Record<string, unknown>;
    if (typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
    return {
      id,
      tag: typeof tag === 'string' ? tag : undefined,
      createdAt: typeof tag === 'string' && typeof createdAt === 'number' ? createdAt : undefined,
    };
  } catch {
    return undefined;
  }
}

/** The value of `names.mirrored` for a cursor. */
export function mirroredCursorValue(cursor: FeedCursor): string {
  return JSON.stringify({ id: cursor.id, tag: cursor.tag, createdAt: cursor.createdAt });
}

/**
 * Whether the database went back behind the cursor this namespace's mirror was last vouched at, `published` being
 * the shared cursor `redis:published` as the database holds it now. Either the store answers that cursor with a
 * snapshot (an id it never handed out, or one it handed out again to another entry: a restore that set the id
 * sequence back, as pg_dump's data and a SQLite file copy do), or the cursor's entry is gone and the shared cursor
 * is behind it. The second is a failover to a PostgreSQL replica that lacked the last entries, or a point-in-time
 * recovery: the replica's id sequence is ahead of every id the primary handed out (PostgreSQL logs sequences 32
 * values ahead), so the lost ids are never handed out again and the store cannot tell the lost entry from a pruned
 * one. The shared cursor can: the pass that vouched at this cursor moved it there in the same transaction, so a
 * database that still has that transaction has the cursor at or past it. (A pass that vouched and then failed to
 * commit also leaves it behind, but its entry is still stored: only one pruned meanwhile, or expired, would count.)
 */
export async function feedWentBack(
  tx: Store,
  mirrored: FeedCursor | undefined,
  published: number,
): Promise<boolean> {
  if (mirrored === undefined) return false;
  const page = await tx.listRevocationsSince(mirrored, 1);
  if (page.snapshot) return true;
  if (published >= mirrored.id) return false;
  const at = await tx.listRevocationsSince(mirrored.id - 1, 1);
  return at.entries[0]?.id !== mirrored.id;
}

/** Empties the mirror of `names` as described above; resolves how many entry keys were removed. */
export async function clearMirror(redis: Redis, names: RedisNames): Promise<number> {
  await redis.del(names.complete);
  await redis.incr(names.epoch);
  const prefixes = [names.jti(''), names.sid(''), names.user('')];
  let removed = 0;
  for (const prefix of prefixes) {
    // Namespaces hold no glob characters (`redisNamespaceProblem`), and the prefixes end in ":".
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', CLEAR_BATCH);
      cursor = next;
      const own = keys.filter((key) => key.startsWith(prefix));
      if (own.length > 0) removed += await redis.unlink(...own);
    } while (cursor !== '0');
  }
  await redis.del(names.mirrored);
  return removed;
}
