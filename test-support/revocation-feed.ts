/**
 * The revocation feed of the fake Jot issuer: the snapshot/delta page (`GET /api/revocations`) and the SSE stream
 * (`GET /api/revocations/stream`, resumable by `Last-Event-ID`, WHATWG HTML §9.2) in the wire shapes of
 * `@jot/contract`, with the faults a resource server must survive: a feed that is down, dropped connections,
 * `reset` events and malformed event text. Served on `node:http` (a stream is a live socket).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

import { FEED_EVENTS, type FeedEntry, type FeedPage, type RevocationKind } from '@jot/contract';

/** The bearer secret a resource server presents to read the feed. */
export const SECRET = 'feed-secret-0123456789-0123456789-abcdef';

export interface RevocationFeed {
  counts: { snapshot: number; stream: number };
  /** Each stream connection's Last-Event-ID. */
  streamResumes: (string | undefined)[];
  feedDown: boolean;
  /** Every stream connection is answered with `event: reset` (a feed stuck resetting). */
  resetOnConnect: boolean;
  /** Adds a feed entry and pushes it to connected streams. */
  revoke(kind: RevocationKind, subject: string, data?: Record<string, unknown>): FeedEntry;
  /** Destroys every open stream connection (a network blip). */
  dropStreams(): void;
  /** Sends `event: reset` on open streams (as after a database reset). */
  resetStreams(): void;
  /** Writes raw SSE text to open streams (malformed events). */
  sendRaw(text: string): void;
  /** Answers a snapshot or delta page request. */
  page(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** Opens a stream for the request. */
  stream(req: IncomingMessage, res: ServerResponse): void;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

const event = (entry: FeedEntry): string =>
  `event: ${FEED_EVENTS.revocation}\nid: ${entry.id}\ndata: ${JSON.stringify(entry)}\n\n`;
const RESET = `event: ${FEED_EVENTS.reset}\ndata: {"cursor":"0"}\n\n`;

export function createRevocationFeed(): RevocationFeed {
  const entries: FeedEntry[] = [];
  const streams = new Set<ServerResponse>();
  let nextId = 1;
  /** Why a feed request is refused, as the answer to send; undefined when it may proceed. */
  const refusal = (req: IncomingMessage): [number, unknown] | undefined => {
    if (feed.feedDown) return [503, { error: 'down' }];
    if (req.headers.authorization !== `Bearer ${SECRET}`) return [401, { error: 'invalid_token' }];
    return undefined;
  };

  const feed: RevocationFeed = {
    counts: { snapshot: 0, stream: 0 },
    streamResumes: [],
    feedDown: false,
    resetOnConnect: false,
    revoke(kind, subject, data = {}) {
      const expires_at = Math.floor(Date.now() / 1000) + 600;
      const entry: FeedEntry = { id: String(nextId++), kind, subject, data, expires_at };
      entries.push(entry);
      for (const res of streams) res.write(event(entry));
      return entry;
    },
    dropStreams() {
      for (const res of streams) res.socket?.destroy();
      streams.clear();
    },
    resetStreams() {
      for (const res of streams) res.write(RESET);
    },
    sendRaw(text) {
      for (const res of streams) res.write(text);
    },
    page(req, res, url) {
      feed.counts.snapshot += 1;
      const refused = refusal(req);
      if (refused !== undefined) return json(res, ...refused);
      const since = url.searchParams.get('since');
      const after = since === null ? 0 : Number(since);
      const page: FeedPage = {
        entries: entries.filter((e) => Number(e.id) > after),
        cursor: String(nextId - 1),
        has_more: false,
        snapshot: since === null,
      };
      return json(res, 200, page);
    },
    stream(req, res) {
      feed.counts.stream += 1;
      const refused = refusal(req);
      if (refused !== undefined) return json(res, ...refused);
      const last = req.headers['last-event-id'];
      feed.streamResumes.push(typeof last === 'string' ? last : undefined);
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store' });
      res.write('retry: 2000\n\n');
      if (feed.resetOnConnect) res.write(RESET);
      const after = typeof last === 'string' ? Number(last) : 0;
      for (const entry of entries.filter((e) => Number(e.id) > after)) res.write(event(entry));
      // As jot-server does once its first read of the feed succeeded: the reader's proof the copy is current.
      res.write(': ping\n\n');
      streams.add(res);
      req.on('close', () => streams.delete(res));
    },
  };
  return feed;
}
