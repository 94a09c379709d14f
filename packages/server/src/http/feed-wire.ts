/** The revocation feed's HTTP framing: Server-Sent Events frames, and the cursor resource servers send back. */
import type { FeedEventData, FeedEventName } from '@jot/contract';

import { HttpError } from './errors.js';

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
