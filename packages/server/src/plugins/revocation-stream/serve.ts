/**
 * One revocation stream's lifetime, on a hijacked response: the event-stream headers, the loop, and the end. The
 * end always releases the heartbeat and the listeners, says `event: shutdown` with a short `retry:` when the server
 * is draining (so readers reconnect to another instance at once), and closes the response. A failure of the store
 * is logged; an ended credential (expired, revoked) just ends the stream, as the reader will learn on reconnecting.
 */
import type { ServerResponse } from 'node:http';

import type { FastifyInstance, FastifyRequest } from 'fastify';

import { HttpError } from '../../http/errors.js';
import { sseFrame } from '../../http/feed-wire.js';
import { DomainError } from '../../services/errors.js';
import type { FeedCursor } from '../../store/index.js';
import { pumpRevocations } from './pump.js';
import { watchStream } from './wakeups.js';

/** The reconnect window a shutting-down server gives its readers (they spread their reconnects over it). */
const SHUTDOWN_RETRY_MS = 1000;

/** Serves the stream from `cursor` until the reader leaves, the server drains or the admin credential ends. */
export async function serveRevocationStream(
  app: FastifyInstance,
  request: FastifyRequest,
  res: ServerResponse,
  cursor: FeedCursor | undefined,
): Promise<void> {
  const credential = request.auth?.claims;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    // A stream opened while draining ends at once; its connection must not bring the reader back here.
    connection: app.drain.draining ? 'close' : 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write(`retry: 2000\n\n`);
  const watch = watchStream(app, request.raw, res);
  try {
    await pumpRevocations(app.jot, watch.state, res, { credential, cursor });
  } catch (err) {
    if (!(err instanceof HttpError || err instanceof DomainError))
      request.log.error({ err }, 'revocation stream failed');
  } finally {
    watch.stop();
    if (app.drain.draining && !res.destroyed) {
      res.write(`retry: ${SHUTDOWN_RETRY_MS}\n${sseFrame('shutdown', { reason: 'shutdown' })}`);
    }
    res.end();
  }
}
