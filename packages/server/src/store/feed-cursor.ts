/**
 * A revocation-feed cursor names an entry by its id AND a tag of what that entry is, so a cursor from another history
 * of the database is recognised even where the ids coincide.
 *
 * Ids alone are not enough: a database restored from a backup, or a failover to a replica that had not received the
 * last revocations, hands out the lost ids again — to different entries. A reader that held a cursor among those ids
 * and comes back after they were handed out again would resume after them and miss the new entries below its cursor
 * (a revoked token accepted until it expires). The tag (a hash of the entry's id, kind, subject and creation time)
 * tells the two histories apart: a cursor whose entry is still stored with another tag gets a snapshot.
 *
 * A cursor whose entry is no longer stored (pruned once it expired, or an id a rolled-back insert used) cannot be
 * judged that way and is taken as before: resumed after, unless it lies beyond every id the database handed out.
 * Untagged cursors (decimal ids, as issued before tags) are taken the same way.
 */
import { createHash } from 'node:crypto';

/** A cursor as a reader sends it back: the entry's id and, when the cursor carried one, its tag. */
export interface FeedCursor {
  id: number;
  tag?: string | undefined;
}

/** Characters of a tag: 11 base64url characters, 66 bits of SHA-256. */
export const FEED_CURSOR_TAG_LENGTH = 11;

/** The tag of the entry stored under `id`. */
export function feedCursorTag(entry: {
  id: number;
  kind: string;
  subject: string;
  createdAt: number;
}): string {
  return createHash('sha256')
    .update(`${entry.id}\n${entry.kind}\n${entry.subject}\n${entry.createdAt}`)
    .digest('base64url')
    .slice(0, FEED_CURSOR_TAG_LENGTH);
}
