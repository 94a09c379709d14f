/**
 * The signal handling of `jot-server` and `jot serve`: the first SIGTERM/SIGINT starts `shutdownGracefully`; a
 * second one during the drain delay ends the delay (the process then exits once the requests in flight are
 * answered); one after the delay meets Node's default handler and ends the process at once.
 */
import type { FastifyInstance } from 'fastify';

import { shutdownGracefully, type ShutdownReport } from './shutdown.js';

/** The shutdown signals. */
export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

/** Where the signals come from: `process`, or an emitter in tests. */
export interface SignalSource {
  once(signal: ShutdownSignal, listener: () => void): unknown;
  off(signal: ShutdownSignal, listener: () => void): unknown;
}

/** Resolves with the next SIGINT/SIGTERM, and stops listening for either. */
function nextSignal(signals: SignalSource): { signal: Promise<ShutdownSignal>; cancel: () => void } {
  let cancel = (): void => undefined;
  const signal = new Promise<ShutdownSignal>((resolve) => {
    const onInt = (): void => done('SIGINT');
    const onTerm = (): void => done('SIGTERM');
    cancel = () => {
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
    };
    const done = (name: ShutdownSignal): void => {
      cancel();
      resolve(name);
    };
    signals.once('SIGINT', onInt);
    signals.once('SIGTERM', onTerm);
  });
  return { signal, cancel };
}

/**
 * Waits for the first SIGTERM/SIGINT, then shuts `app` down gracefully; resolves with the report. Never rejects.
 *
 * @example
 * void shutdownOnSignal(app).then(() => process.exit(0));
 */
export async function shutdownOnSignal(
  app: FastifyInstance,
  signals: SignalSource = process,
): Promise<ShutdownReport> {
  const first = await nextSignal(signals).signal;
  app.log.info(`${first}: shutting down`);
  const hurry = new AbortController();
  const second = nextSignal(signals);
  void second.signal.then((signal) => {
    app.log.info(`${signal}: ending the drain delay`);
    hurry.abort();
  });
  return shutdownGracefully(app, {
    endDelay: hurry.signal,
    // From here a signal is Node's again: it ends the process without waiting for the requests in flight.
    onStopListening: second.cancel,
  });
}
