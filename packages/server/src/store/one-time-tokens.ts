/**
 * Queries on `one_time_tokens`: single-use tokens consumed by one conditional UPDATE. A token is live for a purpose
 * while it is unused and unexpired; that rule is written once, in {@link liveFor}.
 */
import type { Expression, ExpressionBuilder, Kysely, Selectable, SqlBool } from 'kysely';
import type { OneTimeTokensTable, Schema } from './schema.js';

/** A one-time token record (its hash, never the token). */
export interface OneTimeToken {
  tokenHash: string;
  purpose: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  consumedAt: number | null;
}

/** Input of `insertOneTimeToken`. */
export interface NewOneTimeToken {
  /** Hex SHA-256 of the token. */
  tokenHash: string;
  purpose: string;
  userId: string;
  expiresAt: number;
}

type Db = Kysely<Schema>;

function toOneTimeToken(row: Selectable<OneTimeTokensTable>): OneTimeToken {
  return {
    tokenHash: row.token_hash,
    purpose: row.purpose,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    consumedAt: row.consumed_at,
  };
}

/**
 * The live-token predicate: the token with hash `hash`, of `purpose`, unused and unexpired at `now`. The use
 * (`consumeOneTimeToken`) and the look that must not spend it (`findUnusedOneTimeToken`) build their WHERE from
 * here, so a token the look finds is one the use would take.
 */
function liveFor(
  eb: ExpressionBuilder<Schema, 'one_time_tokens'>,
  hash: string,
  purpose: string,
  now: number,
): Expression<SqlBool> {
  return eb.and([
    eb('token_hash', '=', hash),
    eb('purpose', '=', purpose),
    eb('consumed_at', 'is', null),
    eb('expires_at', '>', now),
  ]);
}

export async function insertOneTimeToken(db: Db, input: NewOneTimeToken, now: number): Promise<OneTimeToken> {
  const row = await db
    .insertInto('one_time_tokens')
    .values({
      token_hash: input.tokenHash,
      purpose: input.purpose,
      user_id: input.userId,
      created_at: now,
      expires_at: input.expiresAt,
      consumed_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toOneTimeToken(row);
}

export async function consumeOneTimeToken(
  db: Db,
  hash: string,
  purpose: string,
  now: number,
): Promise<OneTimeToken | undefined> {
  const row = await db
    .updateTable('one_time_tokens')
    .set({ consumed_at: now })
    .where((eb) => liveFor(eb, hash, purpose, now))
    .returningAll()
    .executeTakeFirst();
  return row && toOneTimeToken(row);
}

/**
 * The token, if it is still unused and unexpired for `purpose`: a read only, for a check that must not spend it (a
 * link whose use also takes a password is looked at before the password is).
 */
export async function findUnusedOneTimeToken(
  db: Db,
  hash: string,
  purpose: string,
  now: number,
): Promise<OneTimeToken | undefined> {
  const row = await db
    .selectFrom('one_time_tokens')
    .selectAll()
    .where((eb) => liveFor(eb, hash, purpose, now))
    .executeTakeFirst();
  return row && toOneTimeToken(row);
}

/**
 * Spends every unused token of `userId` with one of `purposes`, as a use would (`consumed_at = now`): a later use of
 * any of them finds it used. Tokens already used are left as they were. Returns how many were voided.
 */
export async function voidOneTimeTokens(
  db: Db,
  userId: string,
  purposes: readonly string[],
  now: number,
): Promise<number> {
  if (purposes.length === 0) return 0;
  const result = await db
    .updateTable('one_time_tokens')
    .set({ consumed_at: now })
    .where('user_id', '=', userId)
    .where('purpose', 'in', [...purposes])
    .where('consumed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export async function pruneExpiredOneTimeTokens(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('one_time_tokens').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
