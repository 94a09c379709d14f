/** Revocation entries as resource servers see them (shared by the polling endpoint, the SSE stream and Redis). */
import type { FeedEntry, FeedPage } from '@jot/contract';

import { feedCursorTag, type FeedCursor, type Revocation, type RevocationPage } from '../store/index.js';

/**
 * A cursor as readers get it and send it back (`http/feed-wire.ts` reads it): `<id>.<tag>.<created>`, the entry's
 * creation time in base 36 (epoch ms); `<id>.<tag>` when the reader sent one without it (a cursor of the release
 * before, kept past pruned entries); the bare id when no entry is stored there.
 */
export function formatCursor({ id, tag, createdAt }: FeedCursor): string {
  if (tag === undefined) return String(id);
  return createdAt === undefined ? `${id}.${tag}` : `${id}.${tag}.${createdAt.toString(36)}`;
}

/** The cursor a page hands out. */
export function pageCursor(page: RevocationPage): FeedCursor {
  return { id: page.cursor, tag: page.cursorTag, createdAt: page.cursorCreatedAt };
}

/** The cursor that resumes after `entry` (the stream's event id). */
export function entryCursor(entry: Revocation): string {
  return formatCursor({ id: entry.id, tag: feedCursorTag(entry), createdAt: entry.createdAt });
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
    cursor: formatCursor(pageCursor(page)),
    has_more: page.hasMore,
    snapshot: page.snapshot,
  };
}
