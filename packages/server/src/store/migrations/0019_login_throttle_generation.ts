/**
 * Migration 0019: `login_throttles.generation`, which run of a key's failure count a row holds, and
 * `login_throttles.reserved`, the places reserved in that run (store/login-throttles.ts). A success forgot the
 * failures counted up to its own attempt by count; once the row had been deleted (another success forgot it all) or
 * restarted (idle past the staleness window) and counted again, an older attempt's count covered the new run's
 * failures too, and its success wiped them; and within one run, successes finishing out of order lowered the count
 * so that a later reservation was given a place already taken, and a success covering that place wiped it. Each
 * (re)start now draws a new generation and restarts `reserved` at 1, which every reservation raises by one and no
 * success lowers; the attempt remembers both, and its success forgets only in its generation, by its place.
 *
 * Not null, defaults `''` and `0`: the rows from before (and those an instance of the release before inserts during
 * a rolling upgrade, naming only the columns it knows) share the generation `''`, and their places go on from their
 * failure count (a reservation takes the greater of `reserved` and `failures` plus one); constant defaults rewrite
 * nothing.
 */
import type { Kysely } from 'kysely';

import type { DialectName } from '../schema.js';

/** Adds the columns (`''` and `0`: a row started before them). */
export async function up(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('login_throttles')
    .addColumn('generation', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('login_throttles')
    .addColumn('reserved', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
}

/** Drops them: successes forget by count alone again. */
export async function down(db: Kysely<unknown>, _dialect: DialectName): Promise<void> {
  await db.schema.alterTable('login_throttles').dropColumn('reserved').execute();
  await db.schema.alterTable('login_throttles').dropColumn('generation').execute();
}
