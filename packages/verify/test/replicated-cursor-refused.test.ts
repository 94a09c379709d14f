/**
 * A feed that refuses the verifier's cursor (400) — an instance of an older release, mid-upgrade, that knows only bare
 * ids and not the `<id>.<tag>` cursors the newer instances hand out, or only those and not the `<id>.<tag>.<created>`
 * of the release after — makes the verifier start over from a snapshot (whose cursor that instance takes), not retry
 * the refused cursor until its copy goes stale.
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

/** Two upgrades: the cursor a newer instance hands out, and the one an older instance does (and alone takes). */
const UPGRADES = [
  { newer: '3.AbCdEfGhIjK', older: '3', takes: /^\d+$/ },
  { newer: '3.AbCdEfGhIjK.mzvx0xc0', older: '3.AbCdEfGhIjK', takes: /^\d+(\.[A-Za-z0-9_-]{11})?$/ },
];

describe.each(UPGRADES)('a cursor the feed refuses ($newer, to an instance issuing $older)', (upgrade) => {
  it('is dropped: the snapshot is reloaded and the stream resumes from its cursor', async () => {
    const snapshots: (string | undefined)[] = [];
    const streams: (string | undefined)[] = [];
    feed = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://feed');
      if (url.pathname === '/feed') {
        snapshots.push(url.searchParams.get('since') ?? undefined);
        // The first snapshot comes from a newer instance (its cursor), the next from an older one.
        const cursor = snapshots.length === 1 ? upgrade.newer : upgrade.older;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ entries: [], cursor, has_more: false, snapshot: true }));
        return;
      }
      const lastEventId = req.headers['last-event-id'];
      streams.push(typeof lastEventId === 'string' ? lastEventId : undefined);
      if (typeof lastEventId === 'string' && !upgrade.takes.test(lastEventId)) {
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
    expect(streams).toEqual([upgrade.newer, upgrade.older]);
    expect(snapshots).toEqual([undefined, undefined]);
    expect(v.stats().revocation.cursor).toBe(upgrade.older);
  });
});
