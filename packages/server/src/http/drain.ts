/**
 * Draining: the state a server is in between SIGTERM and exit. Once `start()` is called, `/readyz` answers 503,
 * every response carries `Connection: close` (so a keep-alive client's next request goes to another instance),
 * and listeners — the revocation streams — are told to send their
 * clients elsewhere. Requests are counted at the `node:http` level, hijacked streams included, so a shutdown can
 * wait for exactly the ones in flight.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';

import type { FastifyInstance } from 'fastify';

/** The drain state of one server. */
export interface Drain {
  /** True once a shutdown has begun. */
  readonly draining: boolean;
  /** Requests received and not yet answered (or abandoned by their client). */
  readonly inFlight: number;
  /** Begins draining (idempotent). */
  start(): void;
  /** Calls `listener` when draining begins (at once if it has); returns the unsubscribe function. */
  onStart(listener: () => void): () => void;
  /** Resolves when no request is in flight, or after `timeoutMs`; true when none is. */
  idle(timeoutMs: number): Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The drain state (`http/drain.ts`). */
    readonly drain: Drain;
  }
}

/** Decorates `app.drain` and installs the counting and `Connection: close` behaviour. */
export function installDrain(app: FastifyInstance): Drain {
  const events = new EventEmitter();
  // One listener per open revocation stream.
  events.setMaxListeners(0);
  let draining = false;
  let inFlight = 0;

  const finished = (): void => {
    inFlight -= 1;
    if (inFlight === 0) events.emit('idle');
  };
  // Ahead of Fastify's own handler, so the header is set before anything can be written.
  app.server.prependListener('request', (_request: IncomingMessage, response: ServerResponse) => {
    inFlight += 1;
    response.once('close', finished);
    if (draining) response.setHeader('connection', 'close');
  });
  // A request that began before the drain gets the header on its way out.
  app.addHook('onSend', async (_request, reply) => {
    if (draining) reply.header('connection', 'close');
  });

  const drain: Drain = {
    get draining() {
      return draining;
    },
    get inFlight() {
      return inFlight;
    },
    start() {
      if (draining) return;
      draining = true;
      events.emit('start');
      // Idle keep-alive connections stay open until the listener closes (shutdown.ts): a request the balancer sends
      // on one meanwhile — perhaps already on the wire — is answered (with `Connection: close`), not cut.
    },
    onStart(listener) {
      if (draining) {
        listener();
        return () => undefined;
      }
      events.once('start', listener);
      return () => events.off('start', listener);
    },
    idle(timeoutMs) {
      if (inFlight === 0) return Promise.resolve(true);
      return new Promise<boolean>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          events.off('idle', done);
          resolve(inFlight === 0);
        };
        const timer = setTimeout(done, timeoutMs);
        events.on('idle', done);
      });
    },
  };
  app.decorate('drain', drain);
  return drain;
}
