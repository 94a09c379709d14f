/** Queries on `dpop_proofs`: proof `jti`s claimed by one insert (the primary key decides), pruned when expired. */
import type { Kysely } from 'kysely';

import type { Schema } from './schema.js';

type Db = Kysely<Schema>;

/** Inserts `key` unless present; true when this call inserted it. */
export async function claimDPoPProof(db: Db, key: string, expiresAt: number): Promise<boolean> {
  const row = await db
    .insertInto('dpop_proofs')
    .values({ key, expires_at: expiresAt })
    .onConflict((oc) => oc.column('key').doNothing())
    .returning('key')
    .executeTakeFirst();
  return row !== undefined;
}

/** Deletes expired entries; returns how many. */
export async function pruneDPoPProofs(db: Db, now: number): Promise<number> {
  const result = await db.deleteFrom('dpop_proofs').where('expires_at', '<=', now).executeTakeFirst();
  return Number(result.numDeletedRows);
}
