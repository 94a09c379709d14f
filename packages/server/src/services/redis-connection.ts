/**
 * The server's Redis client. Redis only accelerates (rate limits across instances, the revocation mirror, DPoP
 * replay checks), so the client fails fast and reconnects in the background, and its errors are logged once per
 * outage. ioredis itself is loaded with the first connection (lazy-ioredis.ts).
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';

import { ioredis } from './lazy-ioredis.js';

/**
 * Connects to Redis and checks it answers, or fails naming the setting (never echoing the URL). Every command fails
 * fast: nothing is queued while disconnected, nothing is retried, and no command waits longer than `timeoutMs`; the
 * client reconnects in the background for as long as it takes.
 */
export async function connectRedis(url: string, timeoutMs: number): Promise<Redis> {
  const { Redis } = await ioredis.load();
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 3000,
    commandTimeout: timeoutMs,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: (attempt) => Math.min(attempt * 100, 1000),
  });
  // The server adds a logging listener once connected.
  return connectAnswering(redis, (cause) => new Error(`JOT_REDIS_URL: ${redisFailure('Redis', cause)}`));
}

/**
 * Whether `cause` is Redis refusing the client's credentials: a reply of WRONGPASS (wrong user name or password) or
 * NOAUTH (a password is required and none was given), as opposed to a connection failure. A reply error exists only
 * once ioredis is loaded.
 */
export function isAuthRefusal(cause: unknown): boolean {
  const lib = ioredis.loaded();
  return (
    lib !== undefined &&
    cause instanceof lib.ReplyError &&
    /^(WRONGPASS|NOAUTH)\b/.test((cause as Error).message)
  );
}

/**
 * Why a Redis connection failed, `redis` naming the server ("Redis", "Redis at …"), with the cause's message in
 * parentheses: "… refused the credentials in JOT_REDIS_URL" for an authentication refusal, "… did not answer" for
 * anything else (a refused connection, an unknown host, a timeout). Redis's replies never hold the password.
 */
export function redisFailure(redis: string, cause: unknown): string {
  const detail = cause instanceof Error ? cause.message : String(cause);
  const what = isAuthRefusal(cause) ? 'refused the credentials in JOT_REDIS_URL' : 'did not answer';
  return `${redis} ${what} (${detail})`;
}

/**
 * Connects `redis` (made with `lazyConnect`) and checks it answers; otherwise disconnects it, so it stops
 * reconnecting and the process can exit, and throws `refused(cause)`. The cause is the client's last 'error' event
 * (ECONNREFUSED, ENOTFOUND, …): `connect()` itself only rejects with "Connection is closed.". The 'error' listener
 * stays, so that later errors are not reported as unhandled; callers may add their own.
 */
export async function connectAnswering(redis: Redis, refused: (cause: unknown) => Error): Promise<Redis> {
  let lastError: Error | undefined;
  redis.on('error', (err: Error) => {
    lastError = err;
  });
  try {
    await redis.connect();
    await redis.ping();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw refused(lastError ?? err);
  }
}

/** An 'error' listener that logs Redis connection errors once per outage (a reconnecting client repeats them). */
export function logRedisErrors(log: FastifyBaseLogger): (err: Error) => void {
  let last = '';
  let at = 0;
  return (err) => {
    const now = Date.now();
    if (err.message === last && now - at < 60_000) return;
    last = err.message;
    at = now;
    log.warn({ err }, 'Redis error (Redis-backed features fall back until it answers)');
  };
}
