/**
 * A revocation-feed cursor names an entry by its id, a tag of what that entry is, and the time it was created, so a
 * cursor from another history of the database is recognised even where the ids coincide.
 *
 * Ids alone are not enough: a database restored from a backup, or a failover to a replica that had not received the
 * last revocations, hands out the lost ids again — to different entries. A reader that held a cursor among those ids
 * and comes back after they were handed out again would resume after them and miss the new entries below its cursor
 * (a revoked token accepted until it expires). The tag (a hash of the entry's id, kind, subject and creation time)
 * tells the two histories apart: a cursor whose entry is still stored with another tag (or another creation time)
 * gets a snapshot.
 *
 * A cursor whose entry is no longer stored (pruned once it expired, or an id a rolled-back insert used) is judged by
 * the entry stored nearest below it. In one history that entry was inserted before the cursor's, so it cannot have
 * been created much later; entries of a new history that reused the ids were created after the restore, which came
 * after the cursor's entry. So a snapshot is given when that entry was created more than
 * `FEED_CURSOR_CLOCK_TOLERANCE_MS` after the cursor's entry, and the reader resumes otherwise (also when nothing is
 * stored below it: then there is nothing to miss). The nearest entry is the newest of the new history's below the
 * cursor (ids are handed out in order), the one most likely to show it. What stays undetected is a history that went
 * back and took new revocations within that tolerance of the cursor's entry, and then lost the entry that reused the
 * cursor's own id.
 *
 * Cursors without a creation time (`<id>.<tag>`, as issued by the release before) and untagged ones (decimal ids, as
 * issued before tags) whose entry is not stored are judged by their id alone: resumed after, unless it lies beyond
 * every id the database handed out.
 */
import { createHash } from 'node:crypto';

/** A cursor as a reader sends it back: the entry's id and, when the cursor carried them, its tag and creation time. */
export interface FeedCursor {
  id: number;
  tag?: string | undefined;
  /** The entry's `createdAt` (epoch ms); only with a tag. */
  createdAt?: number | undefined;
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

/**
 * How much later than a cursor's (pruned) entry the entry stored below it may have been created in one history of the
 * database. An entry's creation time is read from its instance's clock before its id is handed out, so an entry with
 * a lower id (handed out first) may still carry a later time by: the wait for a database connection
 * (`CONNECT_TIMEOUT_MS`, 5 s; SQLite's busy timeout is as long) and for the feed's table lock (`TABLE_LOCK_WAIT`,
 * 3 s) between the cursor entry's clock reading and its insert, plus the difference between the two instances' clocks
 * (the server's default `JOT_CLOCK_TOLERANCE` is 5 s) — 13 s, rounded up. Beyond it, the cursor gets a snapshot.
 * Larger would widen the window a database that went back (and took new revocations) right after the cursor's entry
 * goes unnoticed; smaller would hand readers needless snapshots (correct, only larger) after a slow insert.
 */
export const FEED_CURSOR_CLOCK_TOLERANCE_MS = 15_000;
