/**
 * Queries on `revocations`, the feed resource servers poll by cursor. Entries expire with the
 * tokens they cover and are pruned, so a full snapshot stays small.
 */
import type { RevocationKind } from '@jot/contract';
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { FEED_CURSOR_CLOCK_TOLERANCE_MS, feedCursorTag, type FeedCursor } from './feed-cursor.js';
import { parseJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import type { DialectName, RevocationsTable, Schema } from './schema.js';
import { inTransaction } from './transaction.js';

/** What a revocation is about: one token (`jti`), one session (`sid`) or every token of a user. */
export type { RevocationKind };

/** A revocation feed entry. */
export interface Revocation {
  /** The cursor: strictly increasing, never reused. */
  id: number;
  kind: RevocationKind;
  /** The jti, sid or user id. */
  subject: string;
  /** e.g. `{ valid_after: ms }`, `{ ver: n }`, `{ status: 'disabled' }`. */
  data: JsonObject;
  createdAt: number;
  /** After this the covered tokens are expired anyway; the entry may be pruned. */
  expiresAt: number;
}

/** Input of `addRevocation`. */
export interface NewRevocation {
  kind: RevocationKind;
  subject: string;
  data?: JsonObject;
  expiresAt: number;
}

/** A page of the feed. */
export interface RevocationPage {
  /** Live (unexpired) entries after the cursor, in cursor order. */
  entries: Revocation[];
  /** Pass this as the next cursor (with `cursorTag` and `cursorCreatedAt`). */
  cursor: number;
  /**
   * The tag of the entry at `cursor` (`feed-cursor.ts`), to send with it; undefined when no entry is stored there (an
   * empty feed, or a cursor past pruned entries that was sent without one).
   */
  cursorTag: string | undefined;
  /** The creation time of the entry at `cursor`, to send with it; undefined when `cursorTag` is, or was not sent. */
  cursorCreatedAt: number | undefined;
  /** More entries are waiting: ask again at once with `cursor`. */
  hasMore: boolean;
  /**
   * True when this page starts from scratch (no cursor given, a cursor ahead of the store, as after a database
   * reset, or one whose entry is stored with another tag, or whose pruned entry is younger than the one stored below
   * it, as after a restore that handed its id out again): the reader should replace its state rather than add to it.
   */
  snapshot: boolean;
}

type Db = Kysely<Schema>;

function toRevocation(row: Selectable<RevocationsTable>): Revocation {
  return {
    id: row.id,
    kind: row.kind as RevocationKind,
    subject: row.subject,
    data: parseJsonObject(row.data),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * How long an insert waits for the table lock (PostgreSQL's `lock_timeout`, then 503 `ERR_STORE_UNAVAILABLE`). A
 * healthy holder keeps it for a few inserts; one that froze mid-transaction keeps it until PostgreSQL ends its
 * session (`LOCK_IDLE_LIMIT`), and meanwhile revocations must fail and free their pool connections, well within the
 * time a request waits for one (`CONNECT_TIMEOUT_MS`), rather than queue until the pool is exhausted.
 */
export const TABLE_LOCK_WAIT = '3s';

/** Takes the feed's table lock (see `addRevocation`), waiting at most `TABLE_LOCK_WAIT`. */
async function lockTable(trx: Db): Promise<void> {
  await sql`SELECT set_config('lock_timeout', ${TABLE_LOCK_WAIT}, true)`.execute(trx);
  await sql`LOCK TABLE revocations IN EXCLUSIVE MODE`.execute(trx);
}

export async function addRevocation(
  db: Db,
  dialect: DialectName,
  input: NewRevocation,
  now: number,
  announce: (trx: Db, entry: Revocation) => Promise<void> = () => Promise.resolve(),
): Promise<Revocation> {
  return inTransaction(db, async (trx) => {
    // A reader must never see id n+1 committed while id n is still in flight, or its cursor would skip n.
    // SQLite has one writer at a time; in Postgres sequence order is not commit order, so inserts take a
    // table lock that serialises them (it does not block readers). Revocations are rare writes.
    if (dialect === 'postgres') await lockTable(trx);
    const row = await trx
      .insertInto('revocations')
      .values({
        kind: input.kind,
        subject: input.subject,
        data: JSON.stringify(input.data ?? {}),
        created_at: now,
        expires_at: input.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const entry = toRevocation(row);
    await announce(trx, entry);
    return entry;
  });
}

/** The fields an entry's tag is made of, as stored. */
type TaggedRow = Pick<Selectable<RevocationsTable>, 'id' | 'kind' | 'subject' | 'created_at'>;

const tagOf = (row: TaggedRow): string =>
  feedCursorTag({ id: row.id, kind: row.kind, subject: row.subject, createdAt: row.created_at });

/** The page cursor naming a stored entry. */
const cursorAt = (row: TaggedRow): Pick<RevocationPage, 'cursor' | 'cursorTag' | 'cursorCreatedAt'> => ({
  cursor: Number(row.id),
  cursorTag: tagOf(row),
  cursorCreatedAt: Number(row.created_at),
});

/**
 * The newest committed entry (`newest`: its id is `max`) and the highest id ever handed out (`high`, from the id
 * sequence: ids are never reused within one history of the database, so an id pruned away still counts). A cursor
 * above `high` comes from another database (a reset or a restore); one between `max` and `high` is merely past
 * entries that were pruned. In PostgreSQL `high` may be the id of an insert still in flight, so only `max` bounds
 * what a page may return.
 */
async function idMarks(
  db: Db,
  dialect: DialectName,
): Promise<{ max: number; high: number; newest: TaggedRow | undefined }> {
  const high =
    dialect === 'postgres'
      ? sql`(SELECT last_value FROM pg_sequences
          WHERE format('%I.%I', schemaname, sequencename) = pg_get_serial_sequence('revocations', 'id'))`
      : sql`(SELECT seq FROM sqlite_sequence WHERE name = 'revocations')`;
  const { rows } = await sql<{ high: number | string | null }>`SELECT ${high} AS high`.execute(db);
  const newest = await db
    .selectFrom('revocations')
    .select(['id', 'kind', 'subject', 'created_at'])
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  const max = Number(newest?.id ?? 0);
  return { max, high: Math.max(max, Number(rows[0]?.high ?? 0)), newest };
}

/**
 * Whether `cursor` names an entry of this database's history (`feed-cursor.ts`): false when it lies beyond every id
 * handed out, when the entry stored under its id has another tag or creation time, or when that entry is gone and
 * the one stored nearest below it was created more than the tolerance after it. An untagged cursor, or one without
 * a creation time whose entry is no longer stored, is judged by its id alone.
 *
 * One row answers all of it: the entry at the cursor or, if gone, the nearest below (one step down the primary key).
 * A reader that is caught up names the newest entry, or an id past it when the newest entries were pruned; either
 * way that row is `newest`, already read: only an older cursor is looked up.
 */
async function cursorInHistory(
  db: Db,
  cursor: FeedCursor,
  { high, newest }: { high: number; newest: TaggedRow | undefined },
): Promise<boolean> {
  if (cursor.id > high) return false;
  if (cursor.tag === undefined) return true;
  const row =
    newest !== undefined && Number(newest.id) <= cursor.id
      ? newest
      : await db
          .selectFrom('revocations')
          .select(['id', 'kind', 'subject', 'created_at'])
          .where('id', '<=', cursor.id)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
  // Nothing stored at or below the cursor: nothing a resumed reader could miss.
  if (row === undefined) return true;
  if (Number(row.id) === cursor.id) {
    return (
      tagOf(row) === cursor.tag &&
      (cursor.createdAt === undefined || Number(row.created_at) === cursor.createdAt)
    );
  }
  return (
    cursor.createdAt === undefined ||
    Number(row.created_at) <= cursor.createdAt + FEED_CURSOR_CLOCK_TOLERANCE_MS
  );
}

export async function listRevocationsSince(
  db: Db,
  dialect: DialectName,
  since: number | FeedCursor | undefined,
  limit: number,
  now: number,
): Promise<RevocationPage> {
  const cursor = typeof since === 'number' ? { id: since } : since;
  // Read the high-water mark first and page only below it, so an insert landing between the two
  // queries is picked up by the next call rather than skipped.
  const marks = await idMarks(db, dialect);
  const { max, newest } = marks;
  const snapshot = cursor === undefined || !(await cursorInHistory(db, cursor, marks));
  const after = snapshot ? 0 : cursor.id;
  const rows = await db
    .selectFrom('revocations')
    .selectAll()
    .where('id', '>', after)
    .where('id', '<=', max)
    .where('expires_at', '>', now)
    .orderBy('id')
    .limit(limit + 1)
    .execute();
  const hasMore = rows.length > limit;
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  const entries = page.map(toRevocation);
  if (hasMore && last) return { entries, ...cursorAt(last), hasMore, snapshot };
  if (newest !== undefined && max >= after) return { entries, ...cursorAt(newest), hasMore, snapshot };
  // A cursor past the newest entries that were pruned stays where it is (never back to `max`), tag and all.
  const kept = snapshot ? undefined : cursor;
  return {
    entries,
    cursor: after,
    cursorTag: kept?.tag,
    cursorCreatedAt: kept?.tag === undefined ? undefined : kept.createdAt,
    hasMore,
    snapshot,
  };
}

export async function isJtiRevoked(db: Db, jti: string, now: number): Promise<boolean> {
  const row = await db
    .selectFrom('revocations')
    .select('id')
    .where('kind', '=', 'jti')
    .where('subject', '=', jti)
    .where('expires_at', '>', now)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function pruneExpiredRevocations(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('revocations').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
