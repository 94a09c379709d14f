/**
 * The sign-in's reads, each one statement compiled once (see precompiled.ts). Before the password check: an account
 * key's throttle state, the user with that email, whether the user has a confirmed second factor, and the throttle
 * state of each device credential the request presented (three statements before; each a left join on a one-row
 * stand-in, so each part is simply empty when it has no row — an unknown email reads the same way as a known one). After the new session is committed: the user again, with the
 * registered scopes of the session's client (two statements before).
 */
import { sql, type Kysely, type Selectable } from 'kysely';

import { MAX_DEVICE_TOKENS } from '@jot/contract';

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
  /**
   * The throttle state under each of the device keys asked for, in their order (an element is undefined when that
   * key has none); absent when none were asked for.
   */
  deviceThrottles?: (LoginThrottle | undefined)[];
}

/** How many device keys one sign-in reads (one browser, several accounts): the contract's bound on presented tokens. */
export const MAX_DEVICE_KEYS = MAX_DEVICE_TOKENS;

/** One slot per key the statement reads (a bound changed in the contract fails to compile here). */
const DEVICE_SLOTS = [0, 1, 2, 3] as const satisfies { length: typeof MAX_DEVICE_KEYS };

type Db = Kysely<Schema>;

/** A stand-in for an email that no account can have (an empty `email_key` is no valid address's). */
const NO_EMAIL = '';

/** A stand-in for an empty device slot: no throttle row has an empty key. */
const NO_DEVICE = '';

const signInQuery = precompiled(['accountKey', 'emailKey', 'd0', 'd1', 'd2', 'd3'], (db, v) =>
  db
    .selectFrom(db.selectNoFrom(sql<number>`1`.as('one')).as('k'))
    .leftJoin('users as u', (join) => join.on('u.email_key', '=', v.emailKey))
    .leftJoin('login_throttles as t', (join) => join.on('t.account_key', '=', v.accountKey))
    // One join per device slot: each finds at most one row (the primary key), so the answer stays one row.
    .leftJoin('login_throttles as t0', (join) => join.on('t0.account_key', '=', v.d0))
    .leftJoin('login_throttles as t1', (join) => join.on('t1.account_key', '=', v.d1))
    .leftJoin('login_throttles as t2', (join) => join.on('t2.account_key', '=', v.d2))
    .leftJoin('login_throttles as t3', (join) => join.on('t3.account_key', '=', v.d3))
    .selectAll('u')
    .select((eb) => [
      't.account_key as throttle_key',
      't.failures as throttle_failures',
      't.locked_until as throttle_locked_until',
      't.updated_at as throttle_updated_at',
      't.settled_until as throttle_settled_until',
      't0.account_key as d0_key',
      't0.failures as d0_failures',
      't0.locked_until as d0_locked_until',
      't0.updated_at as d0_updated_at',
      't0.settled_until as d0_settled_until',
      't1.account_key as d1_key',
      't1.failures as d1_failures',
      't1.locked_until as d1_locked_until',
      't1.updated_at as d1_updated_at',
      't1.settled_until as d1_settled_until',
      't2.account_key as d2_key',
      't2.failures as d2_failures',
      't2.locked_until as d2_locked_until',
      't2.updated_at as d2_updated_at',
      't2.settled_until as d2_settled_until',
      't3.account_key as d3_key',
      't3.failures as d3_failures',
      't3.locked_until as d3_locked_until',
      't3.updated_at as d3_updated_at',
      't3.settled_until as d3_settled_until',
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

/** The throttle columns `<prefix>_…` of the row, or undefined when that join found none. */
function throttleOf(row: Record<string, unknown>, prefix: string): LoginThrottle | undefined {
  const key = row[`${prefix}_key`];
  if (typeof key !== 'string') return undefined;
  const settled = row[`${prefix}_settled_until`];
  return {
    accountKey: key,
    failures: Number(row[`${prefix}_failures`]),
    lockedUntil: Number(row[`${prefix}_locked_until`]),
    settledUntil: settled === null || settled === undefined ? null : Number(settled),
    updatedAt: Number(row[`${prefix}_updated_at`]),
  };
}

/**
 * Reads {@link SignInState} for `accountKey` (the throttle's key), `email` and up to {@link MAX_DEVICE_KEYS} device
 * keys (the throttle keys of the device credentials presented) in one statement.
 */
export async function getSignInState(
  db: Db,
  accountKey: string,
  email: string,
  deviceKeys: readonly string[] = [],
): Promise<SignInState> {
  if (deviceKeys.length > MAX_DEVICE_KEYS) throw new RangeError(`at most ${MAX_DEVICE_KEYS} device keys`);
  // No account can have an address emailKey refuses; the throttle is still read.
  const key = emailKeyOf(email) ?? NO_EMAIL;
  const slots = DEVICE_SLOTS.map((i) => deviceKeys[i] ?? NO_DEVICE);
  const row =
    (await signInQuery(db, {
      accountKey,
      emailKey: key,
      d0: slots[0],
      d1: slots[1],
      d2: slots[2],
      d3: slots[3],
    })) ?? {};
  const user = row.id === null || row.id === undefined ? undefined : toUser(row as Selectable<UsersTable>);
  const throttle = throttleOf(row, 'throttle');
  // SQLite answers EXISTS with 0/1, PostgreSQL with a boolean.
  const hasConfirmedFactor = user !== undefined && (row.has_factor === true || Number(row.has_factor) === 1);
  if (deviceKeys.length === 0) return { throttle, user, hasConfirmedFactor };
  const deviceThrottles = deviceKeys.map((_, i) => throttleOf(row, `d${i}`));
  return { throttle, user, hasConfirmedFactor, deviceThrottles };
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
