/** Runs work in a transaction, or in the one already open (Kysely transactions do not nest). */
import type { Kysely, Transaction } from 'kysely';

import type { Schema } from './schema.js';

/**
 * Runs `work` inside a transaction: a new one, or — when `db` already is a transaction (a `Store.transaction`
 * caller composing several operations) — that one, so the whole composition commits or rolls back together.
 */
export function inTransaction<T>(
  db: Kysely<Schema>,
  work: (trx: Kysely<Schema> | Transaction<Schema>) => Promise<T>,
): Promise<T> {
  return db.isTransaction ? work(db) : db.transaction().execute(work);
}
