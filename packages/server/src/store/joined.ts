/**
 * Reads that join tables, so a hot request asks the database once instead of once per table: the state a
 * request's revocation check needs (the user, the session and whether the `jti` is revoked), and the state a refresh
 * starts from (the refresh token, its session, the session's user and client, and what the theft signals compare). Each table's columns come back under a
 * prefix and are mapped by the same functions as the single-table reads, so the shapes cannot drift.
 *
 * Both run on every refresh or authenticated request, so each is built by Kysely once per connection object and
 * compiled with stand-in values; a call swaps its own values into the compiled parameters (profiles showed query
 * building at about a fifth of refresh CPU). The SQL text is the same every time, so the prepared-statement cache
 * hits too; on PostgreSQL both are named prepared statements (their columns are listed, never `*`), parsed and
 * planned once per connection (named-statements.ts).
 */
import { sql, type Kysely, type Selectable } from 'kysely';

import { parseStringArray } from './json.js';
import { precompiled } from './precompiled.js';

import { toRefreshToken, type RefreshToken } from './refresh-tokens.js';
import type { RefreshTokensTable, Schema, SessionsTable, UsersTable } from './schema.js';
import { toSession, type Session } from './sessions.js';
import type { SessionSighting } from './sightings.js';
import { toUser, type User } from './users.js';

type Db = Kysely<Schema>;

/** Every column of `T`, checked by the compiler in both directions (no column missing, none unknown). */
function columns<T>() {
  return <const C extends readonly (keyof T & string)[]>(
    list: C & ([Exclude<keyof T, C[number]>] extends [never] ? unknown : 'a column is missing'),
  ): C => list;
}

const USER_COLUMNS = columns<UsersTable>()([
  'id',
  'email',
  'email_key',
  'password_hash',
  'name',
  'roles',
  'status',
  'token_version',
  'tokens_valid_after',
  'devices_valid_after',
  'credential_generation',
  'created_via',
  'created_at',
  'updated_at',
  'email_verified_at',
]);

export const SESSION_COLUMNS = columns<SessionsTable>()([
  'id',
  'user_id',
  'created_at',
  'last_used_at',
  'absolute_expires_at',
  'idle_timeout_ms',
  'revoked_at',
  'revoked_reason',
  'auth_time',
  'user_agent',
  'ip',
  'csrf_hash',
  'delivery',
  'mode',
  'client_id',
  'amr',
  'acr',
  'dpop_jkt',
  'credential_generation',
]);

const REFRESH_COLUMNS = columns<RefreshTokensTable>()([
  'token_hash',
  'session_id',
  'generation',
  'created_at',
  'rotated_at',
  'successor_hash',
  'successor_ciphertext',
  'marker',
]);

/** `alias.column AS prefix_column` for each column. */
function prefixed(alias: string, list: readonly string[]) {
  return list.map((column) => sql.ref(`${alias}.${column}`).as(`${alias}_${column}`));
}

/** The columns of `alias` out of a joined row, unprefixed; undefined when the outer join found no row. */
function part<T>(row: Record<string, unknown>, alias: string, list: readonly string[]): T | undefined {
  if (row[`${alias}_${list[0]}`] === null || row[`${alias}_${list[0]}`] === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const column of list) out[column] = row[`${alias}_${column}`];
  return out as T;
}

/** SQLite answers EXISTS with 0/1, PostgreSQL with a boolean. */
function truthy(value: unknown): boolean {
  return value === true || value === 1 || value === 1n || value === '1';
}

/** What a revocation check needs about one access token. */
export interface AuthState {
  jtiRevoked: boolean;
  user: User | undefined;
  /** Undefined when the user is gone or the session does not exist. */
  session: Session | undefined;
}

const authStateQuery = precompiled(
  ['sessionId', 'jti', 'now', 'userId'],
  (db, v) =>
    db
      .selectFrom('users as u')
      .leftJoin('sessions as s', (join) => join.on('s.id', '=', v.sessionId))
      .select((eb) => [
        ...prefixed('u', USER_COLUMNS),
        ...prefixed('s', SESSION_COLUMNS),
        eb
          .exists(
            eb
              .selectFrom('revocations')
              .select('id')
              .where('kind', '=', 'jti')
              .where('subject', '=', v.jti)
              .where('expires_at', '>', sql<number>`${v.now}`),
          )
          .as('jti_revoked'),
      ])
      .where('u.id', '=', v.userId),
  { named: 'auth_state' },
);

/** The user, the session and the `jti` revocation of one access token, in one statement (two if the user is gone). */
export async function authState(
  db: Db,
  query: { jti: string; userId: string; sessionId: string },
  now: number,
): Promise<AuthState> {
  const row = await authStateQuery(db, {
    sessionId: query.sessionId,
    jti: query.jti,
    now,
    userId: query.userId,
  });
  if (row === undefined) {
    const revoked = await db
      .selectFrom('revocations')
      .select('id')
      .where('kind', '=', 'jti')
      .where('subject', '=', query.jti)
      .where('expires_at', '>', now)
      .limit(1)
      .executeTakeFirst();
    return { jtiRevoked: revoked !== undefined, user: undefined, session: undefined };
  }
  const user = part<Selectable<UsersTable>>(row, 'u', USER_COLUMNS);
  const session = part<Selectable<SessionsTable>>(row, 's', SESSION_COLUMNS);
  return {
    jtiRevoked: truthy(row.jti_revoked),
    user: user && toUser(user),
    session: session && toSession(session),
  };
}

/** Where a refresh starts from. */
export interface RefreshState {
  token: RefreshToken;
  session: Session;
  /** Undefined when the session's user no longer exists. */
  user: User | undefined;
  /** The scopes the session's client is registered for; undefined when the client no longer exists. */
  clientScopes: string[] | undefined;
  /** Where the session was last used (the theft signals compare it with this refresh). */
  sighting: SessionSighting | undefined;
  /** Rotations of the session's refresh tokens after the `since` asked for, at most the `atMost` asked for. */
  rotations: number;
}

/**
 * The refresh's joined read. The rotation count is a range of the (session_id, rotated_at) index (migration 0011), so
 * it reads only the rotations in the window however long the session has lived. `capped` also stops it at `atMost`
 * rows (a derived table with LIMIT): on PostgreSQL each counted row is a heap visit, so a session rotating fast costs
 * no more than a quiet one. SQLite counts from the covering index alone, where the derived table (a co-routine)
 * measured dearer than the whole range (refresh −16 % per CPU-second over HTTP), so it counts uncapped.
 */
function buildRefreshState(db: Db, v: Record<'tokenHash' | 'since' | 'atMost', string>, capped: boolean) {
  return db
    .selectFrom('refresh_tokens as r')
    .innerJoin('sessions as s', 's.id', 'r.session_id')
    .leftJoin('users as u', 'u.id', 's.user_id')
    .leftJoin('oauth_clients as c', 'c.client_id', 's.client_id')
    .leftJoin('session_sightings as g', 'g.session_id', 's.id')
    .select((eb) => {
      const recent = eb
        .selectFrom('refresh_tokens as f')
        .whereRef('f.session_id', '=', 's.id')
        .where('f.rotated_at', '>', sql<number>`${v.since}`);
      return [
        ...prefixed('r', REFRESH_COLUMNS),
        ...prefixed('s', SESSION_COLUMNS),
        ...prefixed('u', USER_COLUMNS),
        'c.scopes as c_scopes',
        'g.network as g_network',
        'g.user_agent as g_user_agent',
        'g.seen_at as g_seen_at',
        capped
          ? eb
              .selectFrom(
                recent
                  .select('f.rotated_at')
                  .limit(sql<number>`${v.atMost}`)
                  .as('recent'),
              )
              .select((f) => f.fn.countAll<number | string>().as('n'))
              .as('rotations')
          : recent.select((f) => f.fn.countAll<number | string>().as('n')).as('rotations'),
      ];
    })
    .where('r.token_hash', '=', v.tokenHash);
}

const cappedRefreshStateQuery = precompiled(
  ['tokenHash', 'since', 'atMost'],
  (db, v) => buildRefreshState(db, v, true),
  { named: 'refresh_state' },
);
const uncappedRefreshStateQuery = precompiled(['tokenHash', 'since'], (db, v) =>
  buildRefreshState(db, { ...v, atMost: '' }, false),
);

/**
 * A refresh token with its session, the session's user and client's scopes, the session's last sighting and its
 * rotations after `rotations.since` — counted up to `rotations.atMost` (a signal that compares the count with a limit
 * needs no more) unless `capped` is false, which counts them all (SQLite) — in one statement; undefined for an
 * unknown token.
 */
export async function refreshState(
  db: Db,
  tokenHash: string,
  rotations: { since: number; atMost: number; capped?: boolean },
): Promise<RefreshState | undefined> {
  const row =
    rotations.capped === false
      ? await uncappedRefreshStateQuery(db, { tokenHash, since: rotations.since })
      : await cappedRefreshStateQuery(db, { tokenHash, since: rotations.since, atMost: rotations.atMost });
  if (row === undefined) return undefined;
  const token = part<Selectable<RefreshTokensTable>>(row, 'r', REFRESH_COLUMNS);
  const session = part<Selectable<SessionsTable>>(row, 's', SESSION_COLUMNS);
  if (token === undefined || session === undefined) return undefined;
  const user = part<Selectable<UsersTable>>(row, 'u', USER_COLUMNS);
  const scopes = row.c_scopes;
  const seenAt = row.g_seen_at;
  return {
    token: toRefreshToken(token),
    session: toSession(session),
    user: user && toUser(user),
    clientScopes: typeof scopes === 'string' ? parseStringArray(scopes) : undefined,
    sighting:
      seenAt === null || seenAt === undefined
        ? undefined
        : { network: String(row.g_network), userAgent: String(row.g_user_agent), seenAt: Number(seenAt) },
    rotations: Number(row.rotations ?? 0),
  };
}
