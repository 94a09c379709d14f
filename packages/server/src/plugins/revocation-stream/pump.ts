/**
 * The loop of one revocation stream: read the feed after the cursor, write what it holds, then sleep until an
 * entry is added (here or on another instance) or the poll interval passes. A stream opened with an admin token
 * checks that token on every turn, so it ends when the token expires or is revoked.
 */
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';

import { FEED_PAGE_SIZE, type UserAccessTokenClaims } from '@jot/contract';

import type { ServerContext } from '../../context.js';
import { sseFrame } from '../../http/feed-wire.js';
import { entryCursor, formatCursor, pageCursor, toWire } from '../../services/feed-wire.js';
import type { FeedCursor, RevocationPage } from '../../store/index.js';
import { HEARTBEAT, sleepUntilWoken, type StreamState } from './wakeups.js';

/** Where a stream starts: its cursor, and the admin token that opened it (none for the feed secret). */
export interface StreamStart {
  credential: UserAccessTokenClaims | undefined;
  cursor: FeedCursor | undefined;
}

/** Writes pages to `res` until the stream is closed or its credential ends (a revoked one throws). */
export async function pumpRevocations(
  jot: ServerContext,
  state: StreamState,
  res: ServerResponse,
  { credential, cursor: from }: StreamStart,
): Promise<void> {
  const { store, revocations, clock, config } = jot;
  let cursor = from;
  while (!state.closed) {
    // An entry added while the loop is reading the store must not wait for the next poll: `pending` remembers it.
    state.pending = false;
    if (credential !== undefined) {
      if (clock() >= credential.exp * 1000) break;
      await revocations.check(credential);
    }
    const page = await store.listRevocationsSince(cursor, FEED_PAGE_SIZE);
    writePage(res, page);
    // The first read succeeded: a heartbeat now, so the reader knows at once that its copy is current (it does not
    // count the connection itself), rather than at the next beat.
    if (state.readAt === -Infinity) res.write(HEARTBEAT);
    state.readAt = performance.now();
    cursor = pageCursor(page);
    if (page.hasMore || state.pending) continue;
    // Closed during the read (the reader left, the drain began): end now, not a poll interval later.
    if (state.closed) break;
    await sleepUntilWoken(state, config.clusterPollIntervalMs);
  }
}

/**
 * One page as events: `reset` first when it is a snapshot, then one `revocation` per entry with its cursor as id.
 * An empty snapshot still sends its cursor as an id, so a reader that reconnects resumes from there.
 */
function writePage(res: ServerResponse, page: RevocationPage): void {
  const cursor = formatCursor(pageCursor(page));
  if (page.snapshot) res.write(sseFrame('reset', { cursor }));
  for (const entry of page.entries) res.write(sseFrame('revocation', toWire(entry), entryCursor(entry)));
  if (page.entries.length === 0 && page.snapshot) res.write(`id: ${cursor}\ndata: {}\n\n`);
}
