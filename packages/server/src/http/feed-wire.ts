/** The revocation feed's wire format (shared by the polling endpoint, the SSE stream and the Redis channel). */
import type { FeedEntry, FeedEventData, FeedEventName, FeedPage } from '@jot/contract';

import { HttpError } from '../http/errors.js';
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

/** One Server-Sent Events frame of the revocation stream (`id` for `revocation` events: the entry's cursor). */
export function sseFrame<E extends FeedEventName>(event: E, data: FeedEventData[E], id?: string): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** A cursor from a query string or `Last-Event-ID`; 400 when it is not one we issued. */
export function parseCursor(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value))
    throw new HttpError(400, 'ERR_VALIDATION', 'the cursor must be a number from a previous response');
  return Number(value);
}
