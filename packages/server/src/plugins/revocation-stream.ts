/**
 * `GET /api/revocations/stream`: the revocation feed as Server-Sent Events. `event: revocation` carries an entry with
 * its cursor as `id`; `event: reset` means the entries that follow are a snapshot. A client resumes with
 * `Last-Event-ID` (or `?since=`). New entries from this server wake the stream at once, and so do other instances'
 * (PostgreSQL NOTIFY, see services/cluster-sync.ts); without that push the feed is polled every
 * `JOT_CLUSTER_POLL_INTERVAL`. Streams are capped, cut off when the reader stops reading, and a stream
 * opened with an admin token ends when that token expires or is revoked. When the server begins to shut down,
 * every stream ends with `event: shutdown` and a `retry:` hint: reconnect (through the load balancer, to another
 * instance) within that many milliseconds, resuming from the last id.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';

import { FEED_PAGE_SIZE } from '@jot/contract';

import { HttpError } from '../http/errors.js';
import { parseCursor, sseFrame } from '../http/feed-wire.js';
import { DomainError } from '../services/errors.js';
import { toWire } from '../services/feed-wire.js';

// Readers treat a stream that is silent for long as stale (their maxStaleness), so ping often: a comment line is cheap.
export const HEARTBEAT_MS = 5_000;
/** The reconnect window a shutting-down server gives its readers (they spread their reconnects over it). */
const SHUTDOWN_RETRY_MS = 1000;
/** Streams one server holds open at most; each is a poll loop and a listener. */
const MAX_STREAMS = 256;

/** Registers the stream route behind `feedAuth`. */
export function registerRevocationStream(app: FastifyInstance, feedAuth: preHandlerAsyncHookHandler): void {
  const { store, revocations, clock, config } = app.jot;
  const pollMs = config.clusterPollIntervalMs;
  let openStreams = 0;
  revocations.changes.setMaxListeners(2 * MAX_STREAMS + 16);

  app.get<{ Querystring: { since?: string } }>(
    '/api/revocations/stream',
    {
      preHandler: feedAuth,
      schema: {
        tags: ['revocation'],
        summary:
          'Server-Sent Events: `revocation` events with the cursor as id; `reset` means replace local state.',
        querystring: { type: 'object', properties: { since: { type: 'string', maxLength: 20 } } },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      let cursor = parseCursor(typeof lastEventId === 'string' ? lastEventId : request.query.since);
      if (openStreams >= MAX_STREAMS) {
        throw new HttpError(
          503,
          'ERR_UNAVAILABLE',
          'too many revocation streams are open; poll /api/revocations',
          {
            headers: { 'retry-after': '30' },
          },
        );
      }
      openStreams += 1;
      reply.hijack();
      const res = reply.raw;
      const credential = request.auth?.claims;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write(`retry: 2000\n\n`);
      let closed = false;
      let wake: (() => void) | undefined;
      // An entry added while the loop is reading the store must not wait for the next poll: remember it.
      let pending = false;
      const onAdded = (): void => {
        pending = true;
        wake?.();
      };
      revocations.changes.on('added', onAdded);
      revocations.changes.on('remote', onAdded);
      // A reader that stops reading is cut off rather than buffered for without bound.
      const heartbeat = setInterval(() => {
        if (res.writableNeedDrain) res.destroy();
        else res.write(': ping\n\n');
      }, HEARTBEAT_MS);
      const stopOnDrain = app.drain.onStart(() => {
        closed = true;
        wake?.();
      });
      request.raw.on('close', () => {
        closed = true;
        clearInterval(heartbeat);
        revocations.changes.off('added', onAdded);
        revocations.changes.off('remote', onAdded);
        wake?.();
      });
      try {
        while (!closed) {
          pending = false;
          if (credential !== undefined) {
            // An admin token opened this stream: it ends when that token expires or is revoked.
            if (clock() >= credential.exp * 1000) break;
            await revocations.check(credential);
          }
          const page = await store.listRevocationsSince(cursor, FEED_PAGE_SIZE);
          if (page.snapshot) res.write(sseFrame('reset', { cursor: String(page.cursor) }));
          for (const entry of page.entries)
            res.write(sseFrame('revocation', toWire(entry), String(entry.id)));
          if (page.entries.length === 0 && page.snapshot) res.write(`id: ${page.cursor}\ndata: {}\n\n`);
          cursor = page.cursor;
          if (page.hasMore || pending) continue;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              wake = undefined;
              clearTimeout(timer);
              resolve();
            };
          });
        }
      } catch (err) {
        if (!(err instanceof HttpError || err instanceof DomainError))
          request.log.error({ err }, 'revocation stream failed');
      } finally {
        openStreams -= 1;
        clearInterval(heartbeat);
        stopOnDrain();
        revocations.changes.off('added', onAdded);
        revocations.changes.off('remote', onAdded);
        if (app.drain.draining && !res.destroyed) {
          res.write(`retry: ${SHUTDOWN_RETRY_MS}\n${sseFrame('shutdown', { reason: 'shutdown' })}`);
        }
        res.end();
      }
    },
  );
}
