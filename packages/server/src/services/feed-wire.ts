/** Revocation entries as resource servers see them (shared by the polling endpoint, the SSE stream and Redis). */
import type { FeedEntry, FeedPage } from '@jot/contract';

import type { Revocation, RevocationPage } from '../store/index.js';

/** An entry as resource servers see it (times in epoch seconds). */
export function toWire(entry: Revocation): FeedEntry {
  return {
    id: String(entry.id),
    kind: entry.kind,
    subject: entry.subject,
    data: entry.data,
    expires_at: Math.ceil(entry.expiresAt / 1000),
  };
}

/** A page as resource servers see it. */
export function pageToWire(page: RevocationPage): FeedPage {
  return {
    entries: page.entries.map(toWire),
    cursor: String(page.cursor),
    has_more: page.hasMore,
    snapshot: page.snapshot,
  };
}
