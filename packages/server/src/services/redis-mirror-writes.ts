/**
 * The Redis writes of the revocation mirror: one entry queued as its key (`<namespace>:rev:jti:`, `…:rev:sid:` or
 * `…:rev:user:`, expiring with the entry), a pipeline run so that any failed command fails the whole step, and the
 * write-through of a single entry this server just added.
 *
 * Every write is monotonic, in one script per key (EVALSHA, pipelined: no extra round trip): many writers reach the
 * same key — the instances of a deployment publishing the same feed (a slow one may write an older entry after a
 * newer one), the write-through beside the passes, the CLI — so a write never shortens a key's expiry, and a user
 * entry keeps the highest cut-off (`valid_after`) and version (`ver`) ever written to it, and the `status` of the
 * newest feed entry (highest `id`, stored beside them): re-enabling a user is a newer entry and applies, an older
 * entry written late never undoes a newer one. Lua, `TIME` and `PEXPIREAT`: Redis 5 has no `KEEPTTL`, `PXAT` nor
 * `PEXPIRE … GT`.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { ChainableCommander, Redis } from 'ioredis';

import type { RedisNames } from '@jot/contract';

import type { Revocation } from '../store/index.js';

// The expiry of KEYS[1] at ARGV (ms since the epoch, Redis's clock) or later: never earlier than it was. Called
// with the key's PTTL read before the write (which cleared it); a key that had no expiry keeps none.
const KEEP_LONGER_EXPIRY = `
local function keep_longer_expiry(key, ttl_before, at)
  if ttl_before == -1 then return end
  if ttl_before >= 0 then
    local time = redis.call('TIME')
    local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
    if now + ttl_before > at then at = now + ttl_before end
  end
  redis.call('PEXPIREAT', key, at)
end
`;

// KEYS[1] a jti or sid key; ARGV[1] its expiry (ms since the epoch).
const MIRROR_FLAG = `${KEEP_LONGER_EXPIRY}
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], '1')
keep_longer_expiry(KEYS[1], ttl, tonumber(ARGV[1]))
return 1
`;

// KEYS[1] a user key; ARGV[1] the entry's data (a JSON object), ARGV[2] its feed id, ARGV[3] its expiry. The stored
// value (an earlier version's, or unreadable: treated as older than any entry) is merged with the entry: the newer
// one's fields and id, the higher cut-off and version of both.
const MIRROR_USER = `${KEEP_LONGER_EXPIRY}
local function higher(a, b)
  if type(a) ~= 'number' then return b end
  if type(b) ~= 'number' then return a end
  if a > b then return a end
  return b
end
local value = cjson.decode(ARGV[1])
value.id = tonumber(ARGV[2])
local raw = redis.call('GET', KEYS[1])
if raw then
  local ok, stored = pcall(cjson.decode, raw)
  if ok and type(stored) == 'table' then
    local cut_off, ver = higher(value.valid_after, stored.valid_after), higher(value.ver, stored.ver)
    if type(stored.id) == 'number' and stored.id > value.id then value = stored end
    value.valid_after, value.ver = cut_off, ver
  end
end
local ttl = redis.call('PTTL', KEYS[1])
redis.call('SET', KEYS[1], cjson.encode(value))
keep_longer_expiry(KEYS[1], ttl, tonumber(ARGV[3]))
return 1
`;

/** A pipeline with the mirror's write scripts (`mirrorPipeline`). */
export type MirrorPipeline = ChainableCommander & {
  jotMirrorFlag(key: string, expiresAt: number): MirrorPipeline;
  jotMirrorUser(key: string, data: string, id: number, expiresAt: number): MirrorPipeline;
};

/**
 * A pipeline of `redis` with the mirror's write scripts defined on it (once per client; ioredis sends each script
 * in full once per connection, then by its SHA).
 */
export function mirrorPipeline(redis: Redis): MirrorPipeline {
  if (!('jotMirrorFlag' in redis.scriptsSet)) {
    redis.defineCommand('jotMirrorFlag', { numberOfKeys: 1, lua: MIRROR_FLAG });
    redis.defineCommand('jotMirrorUser', { numberOfKeys: 1, lua: MIRROR_USER });
  }
  return redis.pipeline() as MirrorPipeline;
}

/** Queues the write of `entry` (nothing for an entry already expired at `now`). */
export function queueWrite(
  pipeline: MirrorPipeline,
  names: RedisNames,
  entry: Revocation,
  now: number,
): void {
  if (entry.expiresAt <= now) return;
  if (entry.kind === 'user') {
    pipeline.jotMirrorUser(names.user(entry.subject), JSON.stringify(entry.data), entry.id, entry.expiresAt);
  } else {
    const key = entry.kind === 'jti' ? names.jti(entry.subject) : names.sid(entry.subject);
    pipeline.jotMirrorFlag(key, entry.expiresAt);
  }
}

/** Runs `pipeline`; rejects with the first command's error (ioredis resolves per-command errors instead). */
export async function exec(pipeline: ChainableCommander): Promise<void> {
  const results = (await pipeline.exec()) ?? [];
  const failed = results.find(([err]) => err !== null);
  if (failed?.[0]) throw failed[0];
}

/**
 * Writes one entry at once, so strict verifiers see it before the client hears the logout succeeded. Never
 * rejects: a failure is logged, and the next publisher pass writes the entry when Redis answers again.
 */
export async function writeEntryNow(
  redis: Redis,
  names: RedisNames,
  entry: Revocation,
  logger: FastifyBaseLogger,
): Promise<void> {
  try {
    if (redis.status !== 'ready') throw new Error('Redis is not connected');
    const pipeline = mirrorPipeline(redis);
    queueWrite(pipeline, names, entry, Date.now());
    await exec(pipeline);
  } catch (err) {
    logger.warn({ err }, 'writing a revocation to Redis failed; it is published when Redis answers again');
  }
}
