/**
 * Runs the mirror's publisher passes one at a time per instance: a request that arrives during a pass is served by
 * one more pass after it (requests during the same pass share it), and a failed pass is logged once per outage
 * (`warn` when it starts, `info` when a pass succeeds again) rather than once a second.
 */
import type { FastifyBaseLogger } from 'fastify';

/** Wraps `pass` (which may reject) into a `sync()` that serialises passes and never rejects. */
export function serialisedPasses(
  pass: () => Promise<boolean>,
  logger: FastifyBaseLogger,
): () => Promise<boolean> {
  let running: Promise<boolean> | undefined;
  let queued: Promise<boolean> | undefined;
  let healthy = true;

  const settle = (outcome: Promise<boolean>): Promise<boolean> =>
    outcome.then(
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
    );

  function sync(): Promise<boolean> {
    if (running === undefined) {
      running = settle(pass()).finally(() => {
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
  return sync;
}
