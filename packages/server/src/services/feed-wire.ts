/** Revocation entries as resource servers see them (shared by the polling endpoint, the SSE stream and Redis). */
import type { FeedEntry, FeedPage } from '@jot/contract';

import { feedCursorTag, type Revocation, type RevocationPage } from '../store/index.js';

/** A cursor as readers get it and send it back: `<id>.<tag>`, or the bare id when no entry is stored there. */
export function formatCursor(id: number, tag: string | undefined): string {
  return tag === undefined ? String(id) : `${id}.${tag}`;
}

/** The cursor that resumes after `entry` (the stream's event id). */
export function entryCursor(entry: Revocation): string {
  return formatCursor(entry.id, feedCursorTag(entry));
}

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
    cursor: formatCursor(page.cursor, page.cursorTag),
    has_more: page.hasMore,
    snapshot: page.snapshot,
  };
}
