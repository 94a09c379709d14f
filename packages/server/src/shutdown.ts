/**
 * Graceful shutdown, as `jot-server` and `jot serve` do it on SIGTERM/SIGINT:
 *
 * 1. drain at once: `/readyz` answers 503 so the load balancer stops sending traffic, revocation streams tell
 *    their verifiers to reconnect (to another instance), every response closes its connection, idle keep-alive
 *    connections are closed — the listener stays open meanwhile, so nothing is refused;
 * 2. wait for the requests in flight, at most `drainTimeoutMs`;
 * 3. stop listening and close the app (store, Redis); connections still open a short grace later are cut.
 *
 * It resolves within `drainTimeoutMs` plus about a second, whatever clients or dependencies do.
 */
import type { FastifyInstance } from 'fastify';

/** Time left for closing after the drain: the listener, the last connections, the store and Redis. */
const CLOSE_GRACE_MS = 1000;

/** Options of {@link shutdownGracefully}. */
export interface ShutdownOptions {
  /** @default the server's `drainTimeoutMs` (`JOT_DRAIN_TIMEOUT`) */
  drainTimeoutMs?: number;
}

/** What a shutdown did, for the log line and tests. */
export interface ShutdownReport {
  /** Requests still in flight when the drain ended (0 when they all finished). */
  abandoned: number;
  /** True when `app.close()` finished within the grace (false: the process should exit anyway). */
  closed: boolean;
  elapsedMs: number;
}

/**
 * Drains and closes `app`. Never rejects.
 *
 * @example
 * process.once('SIGTERM', () => void shutdownGracefully(app).then(() => process.exit(0)));
 */
export async function shutdownGracefully(
  app: FastifyInstance,
  options: ShutdownOptions = {},
): Promise<ShutdownReport> {
  const started = performance.now();
  const drainTimeoutMs = options.drainTimeoutMs ?? app.jot.config.drainTimeoutMs;
  app.drain.start();
  const drained = await app.drain.idle(drainTimeoutMs);
  const abandoned = drained ? 0 : app.drain.inFlight;
  if (!drained) {
    app.log.warn({ inFlight: abandoned }, 'drain timeout: cutting the requests still in flight');
    app.server.closeAllConnections();
  }
  let timer: NodeJS.Timeout | undefined;
  const closed = await Promise.race([
    app.close().then(
      () => true,
      (err: unknown) => {
        app.log.error({ err }, 'closing the server failed');
        return true;
      },
    ),
    new Promise<boolean>((resolve) => {
      // A connection opened just as the listener closed, or a dependency that will not say goodbye.
      timer = setTimeout(() => {
        app.server.closeAllConnections();
        timer = setTimeout(() => resolve(false), CLOSE_GRACE_MS / 2);
      }, CLOSE_GRACE_MS / 2);
    }),
  ]);
  clearTimeout(timer);
  const elapsedMs = Math.round(performance.now() - started);
  app.log.info({ elapsedMs, abandoned, closed }, 'shut down');
  return { abandoned, closed, elapsedMs };
}
