/** The revocation feed's HTTP framing: Server-Sent Events frames, and the cursor resource servers send back. */
import type { FeedEventData, FeedEventName } from '@jot/contract';

import { FEED_CURSOR_TAG_LENGTH, type FeedCursor } from '../store/index.js';
import { HttpError } from './errors.js';

/** One Server-Sent Events frame of the revocation stream (`id` for `revocation` events: the entry's cursor). */
export function sseFrame<E extends FeedEventName>(event: E, data: FeedEventData[E], id?: string): string {
  return `event: ${event}\n${id === undefined ? '' : `id: ${id}\n`}data: ${JSON.stringify(data)}\n\n`;
}

/** Base-36 digits of a creation time: 10 stay below 2^53 (epoch ms need 8 until the year 2059, then 9). */
const CREATED_DIGITS = 10;

const CURSOR = new RegExp(
  `^(\\d{1,15})(?:\\.([A-Za-z0-9_-]{${FEED_CURSOR_TAG_LENGTH}})(?:\\.([0-9a-z]{1,${CREATED_DIGITS}}))?)?$`,
);

/** The longest cursor `parseCursor` takes: 15 digits, a dot and a tag, a dot and a creation time. */
export const CURSOR_MAX_LENGTH = 16 + FEED_CURSOR_TAG_LENGTH + 1 + CREATED_DIGITS;

/**
 * A cursor from a query string or `Last-Event-ID`: `<id>.<tag>.<created>` as issued (`services/feed-wire.ts`,
 * store/feed-cursor.ts), or `<id>.<tag>` and a bare `<id>` as issued by earlier releases; 400 when it is none of them.
 */
export function parseCursor(value: string | undefined): FeedCursor | undefined {
  if (value === undefined || value === '') return undefined;
  const match = CURSOR.exec(value);
  if (match === null)
    throw new HttpError(
      400,
      'ERR_VALIDATION',
      'the cursor must be one from a previous response, sent unchanged',
    );
  const created = match[3];
  return {
    id: Number(match[1]),
    tag: match[2],
    createdAt: created === undefined ? undefined : parseInt(created, 36),
  };
}
