/**
 * Migration 0019: `login_throttles.generation`, which run of a key's failure count a row holds (store/login-throttles.ts).
 * A success forgets the failures counted up to its own attempt by count; once the row had been deleted (another
 * success forgot it all) or restarted (idle past the staleness window) and counted again, an older attempt's count
 * covered the new run's failures too, and its success wiped them. Each (re)start now draws a new generation, the
 * attempt remembers the one it was counted in, and its success forgets only in that one.
 *
 * Not null, default `''`: the rows from before (and those an instance of the release before inserts during a rolling
 * upgrade, naming only the columns it knows) share the generation `''`, and are forgotten by count as they were; a
 * constant default rewrites nothing.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the column (`''`: a row started before it). */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('login_throttles')
    .addColumn('generation', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
}

/** Drops it: successes forget by count alone again. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('login_throttles').dropColumn('generation').execute();
}
