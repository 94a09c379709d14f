/**
 * A sign-in's writes after its password check, committed together: the session, its first refresh token and — when
 * the sign-in reserved an attempt (store/login-throttles.ts) — the forgetting of that reservation. On PostgreSQL one
 * statement (data-modifying `WITH`: one statement is one transaction, so no BEGIN and COMMIT round trips); SQLite,
 * which has no data-modifying `WITH`, runs them in one transaction (store.ts).
 */
import { sql, type Kysely, type Selectable } from 'kysely';

import { SESSION_COLUMNS } from './joined.js';
import { forgetLoginAttempts, type LoginReservation } from './login-throttles.js';
import { precompiled } from './precompiled.js';
import type { NewRefreshToken } from './refresh-tokens.js';
import type { Schema, SessionsTable } from './schema.js';
import {
  insertSession,
  sessionBindings,
  SESSION_VALUES,
  toSession,
  type NewSession,
  type Session,
} from './sessions.js';

type Db = Kysely<Schema>;

/** An empty key: no throttle row has it, so a sign-in without a reservation forgets nothing. */
const NO_KEY = '';

const startAtOnceQuery = precompiled(
  [...SESSION_VALUES, 'hasRefresh', 'tokenHash', 'marker', 'forgetKey', 'forgetGeneration', 'forgetPlace'],
  (db, v) =>
    db
      .with('s', (qb) => insertSession(qb, v))
      .with('r', (qb) =>
        qb
          .insertInto('refresh_tokens')
          .columns(['token_hash', 'session_id', 'generation', 'created_at', 'marker'])
          .expression(
            sql`select ${v.tokenHash}, s.id, 1, s.created_at, cast(${v.marker} as text) from s where cast(${v.hasRefresh} as boolean)`,
          ),
      )
      // With no place past the reservation's, the count goes, row and all (the common case). Else it is left to
      // forgetLoginAttempts after the commit: capping the count needs the row as it is then, not this snapshot.
      .with('f', (qb) =>
        qb
          .deleteFrom('login_throttles')
          .where('account_key', '=', v.forgetKey)
          .where('generation', '=', v.forgetGeneration)
          .where('reserved', '<=', sql<number>`cast(${v.forgetPlace} as integer)`)
          .returning('account_key'),
      )
      // Its columns listed, so that it can be a named statement (named-statements.ts): parsed once per connection.
      .selectFrom('s')
      .select(SESSION_COLUMNS)
      .select(sql<number>`(select count(*) from f)`.as('forgot')),
  { named: 'session_start' },
);

/** The session's row, its first token and the reservation forgotten, in one statement (PostgreSQL). */
export async function startSessionAtOnce(
  db: Db,
  input: NewSession,
  refresh: Omit<NewRefreshToken, 'sessionId' | 'generation'> | undefined,
  forget: LoginReservation | undefined,
  now: number,
): Promise<Session> {
  const row = await startAtOnceQuery(db, {
    ...sessionBindings(input, now),
    hasRefresh: refresh !== undefined,
    tokenHash: refresh?.tokenHash ?? '',
    marker: refresh?.marker ?? null,
    forgetKey: forget?.key ?? NO_KEY,
    forgetGeneration: forget?.generation ?? '',
    forgetPlace: forget?.place ?? 0,
  });
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  // Places reserved after it (a concurrent burst), or the row gone or started over: the two-step forget decides.
  if (forget !== undefined && Number(row.forgot) === 0) {
    await forgetLoginAttempts(db, forget.key, forget.place, forget.generation);
  }
  return toSession(row as Selectable<SessionsTable>);
}
