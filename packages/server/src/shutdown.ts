/**
 * Graceful shutdown, as `jot-server` and `jot serve` do it on SIGTERM/SIGINT:
 *
 * 1. drain at once: `/readyz` answers 503 so the load balancer stops sending traffic, revocation streams tell
 *    their verifiers to reconnect (to another instance), every response closes its connection;
 * 2. keep accepting and serving new connections for `drainDelayMs` — the time the load balancer takes to notice
 *    and stop routing here — so what it still sends is answered, not refused or failed with 503 (an aborted
 *    `endDelay` ends this early);
 * 3. stop listening, close the idle keep-alive connections, and wait for the requests in flight, at most
 *    `drainTimeoutMs`;
 * 4. close the app (store, Redis); connections still open a short grace later are cut.
 *
 * It resolves within `drainDelayMs` plus `drainTimeoutMs` plus about a second, whatever clients or dependencies do.
 */
import type { FastifyInstance } from 'fastify';

/** Time left for closing after the drain: the listener, the last connections, the store and Redis. */
const CLOSE_GRACE_MS = 1000;

/** Options of {@link shutdownGracefully}. */
export interface ShutdownOptions {
  /** @default the server's `drainTimeoutMs` (`JOT_DRAIN_TIMEOUT`) */
  drainTimeoutMs?: number;
  /** @default the server's `drainDelayMs` (`JOT_DRAIN_DELAY`) */
  drainDelayMs?: number;
  /** Aborting it ends the drain delay at once (a second signal). */
  endDelay?: AbortSignal;
  /** Called once the listener is closed, when the delay is over. */
  onStopListening?: () => void;
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
  const drainDelayMs = options.drainDelayMs ?? app.jot.config.drainDelayMs;
  app.drain.start();
  if (drainDelayMs > 0) {
    app.log.info({ drainDelayMs }, 'draining: still accepting connections until the load balancer lets go');
    await delay(drainDelayMs, options.endDelay);
  }
  // No new connection from here on: a refused connection is retried elsewhere by a load balancer; a request
  // accepted now and answered 503 by the closing app would not be (not a POST, by nginx's defaults).
  if (app.server.listening) app.server.close();
  // Keep-alive connections with no request in progress end now (each one in progress closes after its answer).
  app.server.closeIdleConnections();
  options.onStopListening?.();
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

/** Resolves after `ms`, or at once when `signal` is aborted. */
function delay(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (signal?.aborted === true) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
