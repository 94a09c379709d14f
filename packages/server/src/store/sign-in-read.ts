/**
 * The sign-in's reads, each one statement compiled once (see precompiled.ts). Before the password check: an account
 * key's throttle state, the user with that email and whether the user has a confirmed second factor (three
 * statements before; each a left join on a one-row stand-in, so each part is simply empty when it has no row — an
 * unknown email reads the same way as a known one). After the new session is committed: the user again, with the
 * registered scopes of the session's client (two statements before).
 */
import { sql, type Kysely, type Selectable } from 'kysely';

import { emailKeyOf } from './email.js';
import type { LoginThrottle } from './login-throttles.js';
import { precompiled } from './precompiled.js';
import { parseStringArray } from './json.js';
import type { Schema, UsersTable } from './schema.js';
import { toUser, type User } from './users.js';

/** What a sign-in needs to know before it checks the password. */
export interface SignInState {
  /** The account key's failed-sign-in state; undefined when it has none. */
  throttle: LoginThrottle | undefined;
  /** The user with this email; undefined for an unknown (or invalid) address. */
  user: User | undefined;
  /** Whether the user has a confirmed second factor (a pending enrolment does not count); false without a user. */
  hasConfirmedFactor: boolean;
}

type Db = Kysely<Schema>;

/** A stand-in for an email that no account can have (an empty `email_key` is no valid address's). */
const NO_EMAIL = '';

const signInQuery = precompiled(['accountKey', 'emailKey'], (db, v) =>
  db
    .selectFrom(db.selectNoFrom(sql<number>`1`.as('one')).as('k'))
    .leftJoin('users as u', (join) => join.on('u.email_key', '=', v.emailKey))
    .leftJoin('login_throttles as t', (join) => join.on('t.account_key', '=', v.accountKey))
    .selectAll('u')
    .select((eb) => [
      't.account_key as throttle_key',
      't.failures as throttle_failures',
      't.locked_until as throttle_locked_until',
      't.updated_at as throttle_updated_at',
      eb
        .exists(
          eb
            .selectFrom('mfa_factors as f')
            .select('f.id')
            .whereRef('f.user_id', '=', 'u.id')
            .where('f.confirmed_at', 'is not', null),
        )
        .as('has_factor'),
    ]),
);

/** Reads {@link SignInState} for `accountKey` (the throttle's key) and `email` in one statement. */
export async function getSignInState(db: Db, accountKey: string, email: string): Promise<SignInState> {
  // No account can have an address emailKey refuses; the throttle is still read.
  const key = emailKeyOf(email) ?? NO_EMAIL;
  const row = (await signInQuery(db, { accountKey, emailKey: key })) ?? {};
  const user = row.id === null || row.id === undefined ? undefined : toUser(row as Selectable<UsersTable>);
  const throttle =
    row.throttle_key === null || row.throttle_key === undefined
      ? undefined
      : {
          accountKey,
          failures: Number(row.throttle_failures),
          lockedUntil: Number(row.throttle_locked_until),
          updatedAt: Number(row.throttle_updated_at),
        };
  // SQLite answers EXISTS with 0/1, PostgreSQL with a boolean.
  const hasConfirmedFactor = user !== undefined && (row.has_factor === true || Number(row.has_factor) === 1);
  return { throttle, user, hasConfirmedFactor };
}

/** A user read again after a sign-in's session was committed, with the scopes of the session's client. */
export interface UserForSession {
  /** Undefined when the user no longer exists. */
  user: User | undefined;
  /** The scopes the client is registered for; undefined when the client does not exist. */
  clientScopes: string[] | undefined;
}

const userForSessionQuery = precompiled(['userId', 'clientId'], (db, v) =>
  db
    .selectFrom('users as u')
    .leftJoin('oauth_clients as c', (join) => join.on('c.client_id', '=', v.clientId))
    .selectAll('u')
    .select('c.scopes as client_scopes')
    .where('u.id', '=', v.userId),
);

/** Reads {@link UserForSession} for `userId` and `clientId` in one statement. */
export async function getUserForSession(db: Db, userId: string, clientId: string): Promise<UserForSession> {
  const row = await userForSessionQuery(db, { userId, clientId });
  if (row === undefined) return { user: undefined, clientScopes: undefined };
  const scopes = row.client_scopes;
  return {
    user: toUser(row as Selectable<UsersTable>),
    clientScopes: typeof scopes === 'string' ? parseStringArray(scopes) : undefined,
  };
}
