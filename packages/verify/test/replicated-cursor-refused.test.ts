/**
 * A feed that refuses the verifier's cursor (400) — an instance of an older release, mid-upgrade, that knows only bare
 * ids and not the `<id>.<tag>` cursors the newer instances hand out — makes the verifier start over from a snapshot
 * (whose cursor that instance takes), not retry the refused cursor until its copy goes stale.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { afterEach, describe, expect, it } from 'vitest';

import { connected } from './support/outcome.js';
import { useReplicatedVerifier } from './support/replicated-verifier.js';
import { waitFor } from './support/wait.js';

let feed: Server | undefined;

// Registered before the shared setup's hooks, so (hooks run as a stack) it runs after the verifier is closed.
afterEach(() => {
  feed?.closeAllConnections();
  feed?.close();
  feed = undefined;
});

const setup = useReplicatedVerifier();

describe('a cursor the feed refuses', () => {
  it('is dropped: the snapshot is reloaded and the stream resumes from its cursor', async () => {
    const snapshots: (string | undefined)[] = [];
    const streams: (string | undefined)[] = [];
    feed = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://feed');
      if (url.pathname === '/feed') {
        snapshots.push(url.searchParams.get('since') ?? undefined);
        // The first snapshot comes from a newer instance (a tagged cursor), the next from an older one.
        const cursor = snapshots.length === 1 ? '3.AbCdEfGhIjK' : '3';
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ entries: [], cursor, has_more: false, snapshot: true }));
        return;
      }
      const lastEventId = req.headers['last-event-id'];
      streams.push(typeof lastEventId === 'string' ? lastEventId : undefined);
      if (typeof lastEventId === 'string' && !/^\d+$/.test(lastEventId)) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'ERR_VALIDATION', message: 'the cursor must be a number' } }),
        );
        return;
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': heartbeat\n\n');
    });
    await new Promise<void>((resolve) => feed!.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(feed.address() as AddressInfo).port}`;
    const v = setup.build({ feedUrl: `${base}/feed`, streamUrl: `${base}/stream`, maxStaleness: '30s' });
    await v.ready();
    await waitFor(connected(v), 5000, 'the stream, resumed from the older instance’s cursor');
    expect(streams).toEqual(['3.AbCdEfGhIjK', '3']);
    expect(snapshots).toEqual([undefined, undefined]);
    expect(v.stats().revocation.cursor).toBe('3');
  });
});
