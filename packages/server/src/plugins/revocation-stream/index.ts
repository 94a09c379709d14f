/**
 * `GET /api/revocations/stream`: the revocation feed as Server-Sent Events. `event: revocation` carries an entry with
 * its cursor as `id`; `event: reset` means the entries that follow are a snapshot. A client resumes with
 * `Last-Event-ID` (or `?since=`). New entries from this server wake the stream at once, and so do other instances'
 * (PostgreSQL NOTIFY, see services/cluster-sync.ts); without that push the feed is polled every
 * `JOT_CLUSTER_POLL_INTERVAL`. Streams are capped, cut off when the reader stops reading, and a stream
 * opened with an admin token ends when that token expires or is revoked. When the server begins to shut down,
 * every stream ends with `event: shutdown` and a `retry:` hint: reconnect (through the load balancer, to another
 * instance) within that many milliseconds, resuming from the last id.
 *
 * This file is the route and the cap; `serve.ts` is one stream's lifetime, `pump.ts` its read-and-write loop and
 * `wakeups.ts` what wakes or ends that loop (new entries, the reader leaving, the drain) and the heartbeat.
 */
import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { ENDPOINTS } from '@jot/contract';

import { HttpError } from '../../http/errors.js';
import { CURSOR_MAX_LENGTH, parseCursor } from '../../http/feed-wire.js';
import { serveRevocationStream } from './serve.js';

/** Streams one server holds open at most; each is a poll loop and a listener. */
const MAX_STREAMS = 256;

/** Registers the stream route behind `feedAuth`. */
export function registerRevocationStream(app: FastifyInstance, feedAuth: preHandlerAsyncHookHandler): void {
  let openStreams = 0;
  // Each stream listens for `added` and `remote`: room for every stream, and for the few other listeners.
  app.jot.revocations.changes.setMaxListeners(2 * MAX_STREAMS + 16);

  app.get<{ Querystring: { since?: string } }>(
    ENDPOINTS.revocationStream,
    {
      preHandler: feedAuth,
      schema: {
        tags: ['revocation'],
        summary:
          'Server-Sent Events: `revocation` events with the cursor as id; `reset` means replace local state.',
        querystring: {
          type: 'object',
          properties: { since: { type: 'string', maxLength: CURSOR_MAX_LENGTH } },
        },
      },
    },
    async (request, reply) => {
      const lastEventId = request.headers['last-event-id'];
      const cursor = parseCursor(typeof lastEventId === 'string' ? lastEventId : request.query.since);
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
      try {
        await serveRevocationStream(app, request, reply.raw, cursor);
      } finally {
        openStreams -= 1;
      }
    },
  );
}
