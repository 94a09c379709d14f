/**
 * The server's work off the request path, started once its context is decorated and stopped by `app.close()`:
 * learning the stored password-hash parameters, pruning expired rows, the Redis revocation mirror and the cluster
 * sync that picks up other instances' key and revocation changes.
 */
import type { FastifyInstance } from 'fastify';

import { pruneExpired, PRUNE_INTERVAL_MS, rotatedTokenKeepMs } from '../services/pruning.js';
import { startClusterSync } from '../services/cluster-sync.js';
import { createRedisMirror, type RedisMirror } from '../services/redis-mirror.js';
import { logRedisErrors } from '../services/redis-connection.js';

/** How often the argon2 parameter sets of the stored hashes are read again (see services/passwords.ts). */
const LEARN_HASH_PARAMETERS_INTERVAL_MS = 3_600_000;

/**
 * Starts the background work of `app.jot` and stops it on close; `ownsStore` closes the store last (the server
 * opened it).
 */
export async function startBackgroundWork(app: FastifyInstance, ownsStore: boolean): Promise<void> {
  const { store, keys, revocations, mailer, redis, config } = app.jot;
  const stopHousekeeping = startHousekeeping(app);
  let mirror: RedisMirror | undefined;
  if (redis !== undefined) {
    redis.on('error', logRedisErrors(app.log));
    mirror = await createRedisMirror({
      redis,
      store,
      revocations,
      logger: app.log,
      namespace: config.redisNamespace,
      deployment: { kek: config.kek, issuer: config.issuer },
    });
  }
  const cluster = startClusterSync({
    store,
    keys,
    revocations,
    pollIntervalMs: config.clusterPollIntervalMs,
    logger: app.log,
  });
  app.addHook('onClose', async () => {
    stopHousekeeping();
    keys.close();
    mirror?.close();
    await mailer.close();
    await cluster.close();
    await redis?.quit().catch(() => undefined);
    if (ownsStore) await store.close();
  });
}

/**
 * Failed sign-ins are padded to the costliest argon2 parameters in use: learns those the stored hashes use now
 * (after a restart the server remembers none) and again every hour, off the request path; prunes expired rows on
 * the same timer. Returns the function that stops the timer.
 */
function startHousekeeping(app: FastifyInstance): () => void {
  const { store, passwords, revocations, loginThrottle, config } = app.jot;
  let lastLearnedAt = 0;
  const learnHashParameters = (): void => {
    lastLearnedAt = Date.now();
    passwords
      .learn(() => store.passwordHashParameters())
      .catch((err: unknown) => app.log.warn({ err }, 'reading the stored password hash parameters failed'));
  };
  learnHashParameters();
  const pruneTimer = setInterval(() => {
    if (Date.now() - lastLearnedAt >= LEARN_HASH_PARAMETERS_INTERVAL_MS) learnHashParameters();
    void pruneExpired({
      store,
      revocations,
      loginThrottle,
      sessionRetentionMs: config.sessionRetentionMs,
      rotatedTokenKeepMs: rotatedTokenKeepMs({
        graceMs: config.refreshGraceWindowMs,
        accessTokenTtlMs: config.accessTokenTtlMs,
        clockToleranceMs: config.clockToleranceMs,
      }),
      warn: (err, what) => app.log.warn({ err }, what),
    });
  }, PRUNE_INTERVAL_MS);
  pruneTimer.unref();
  return () => clearInterval(pruneTimer);
}
