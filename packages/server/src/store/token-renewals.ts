/**
 * Queries on `token_renewals`: a single-token renewal is claimed by one insert that does nothing on a primary-key
 * conflict, so of N instances renewing one access token at once exactly one stores its successor; the others read
 * that row. Rows are pruned once the renewed token has expired.
 */
import type { Kysely, Selectable } from 'kysely';

import type { Schema, TokenRenewalsTable } from './schema.js';

/** A renewal record (hashes and the sealed successor, never a token in clear). */
export interface TokenRenewal {
  /** Hex SHA-256 of `renew:<jti>` of the renewed token. */
  tokenHash: string;
  sessionId: string;
  successorHash: string;
  successorCiphertext: string;
  renewedAt: number;
  expiresAt: number;
}

/** Input of `claimTokenRenewal`. */
export type NewTokenRenewal = Omit<TokenRenewal, 'renewedAt'>;

type Db = Kysely<Schema>;

function toRenewal(row: Selectable<TokenRenewalsTable>): TokenRenewal {
  return {
    tokenHash: row.token_hash,
    sessionId: row.session_id,
    successorHash: row.successor_hash,
    successorCiphertext: row.successor_ciphertext,
    renewedAt: Number(row.renewed_at),
    expiresAt: Number(row.expires_at),
  };
}

/** Inserts the renewal unless its token was renewed already; true when this call inserted it. */
export async function claimTokenRenewal(db: Db, input: NewTokenRenewal, now: number): Promise<boolean> {
  const row = await db
    .insertInto('token_renewals')
    .values({
      token_hash: input.tokenHash,
      session_id: input.sessionId,
      successor_hash: input.successorHash,
      successor_ciphertext: input.successorCiphertext,
      renewed_at: now,
      expires_at: input.expiresAt,
    })
    .onConflict((oc) => oc.column('token_hash').doNothing())
    .returning('token_hash')
    .executeTakeFirst();
  return row !== undefined;
}

/** The renewal of a token, if it was renewed. */
export async function getTokenRenewal(db: Db, tokenHash: string): Promise<TokenRenewal | undefined> {
  const row = await db
    .selectFrom('token_renewals')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  return row && toRenewal(row);
}

/** Deletes renewals whose renewed token has expired; returns how many. */
export async function pruneTokenRenewals(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('token_renewals').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
