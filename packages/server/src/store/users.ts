/**
 * Queries on `users`. Every authorization change that must invalidate issued access tokens
 * bumps `token_version` inside the same UPDATE, so no reader ever sees new roles with an old version.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { parseStringArray } from './json.js';
import { displayEmail, emailKey, emailKeyOf, storedEmailKey } from './email.js';
import { precompiled } from './precompiled.js';
import type { Schema, UsersTable } from './schema.js';
import { inTransaction } from './transaction.js';

/** Account status. */
export type UserStatus = 'active' | 'disabled';

/** A user as callers see it. Times are epoch ms. */
export interface User {
  id: string;
  /** The display form (trimmed, NFC), as the user typed it. */
  email: string;
  /** The comparison form: unique across accounts (see email.ts). */
  emailKey: string;
  passwordHash: string;
  name: string | null;
  roles: string[];
  status: UserStatus;
  /** The `ver` claim current tokens must carry. */
  tokenVersion: number;
  /** Tokens issued before this time are invalid; 0 = none. */
  tokensValidAfter: number;
  /**
   * The device cut-off: device credentials issued before this time are dead, and known devices claimed before it
   * count as new (services/login-devices.ts, store/sightings.ts). Never later than `tokensValidAfter`; it stays
   * behind it when a `failure_burst` (others' failed sign-ins) moved only that one.
   */
  devicesValidAfter: number;
  /**
   * Incremented by every password change, logout-everywhere and disable: a session is valid only while it carries
   * the current value.
   */
  credentialGeneration: number;
  /** Who created the account: `register`, `admin`, `cli`, `bootstrap`, or `unknown` (before migration 0004). */
  createdVia: string;
  createdAt: number;
  updatedAt: number;
  /** When the email address was proven by a link sent to it; null = not verified. */
  emailVerifiedAt: number | null;
}

/** Input of `createUser`. */
export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string | null;
  roles?: readonly string[];
  status?: UserStatus;
  /** Set when the address is already proven (an accepted invitation). */
  emailVerifiedAt?: number | null;
  /** @default 'unknown' */
  createdVia?: string;
}

/** Filter and page of `searchUsers`. */
export interface UserQuery {
  /** Case-insensitive substring of the email or name. */
  q?: string;
  limit: number;
  offset?: number;
}

type Db = Kysely<Schema>;

/** The canonical form emails are compared in (see email.ts); throws `InvalidEmailError`. */
export function normalizeEmail(email: string): string {
  return emailKey(email);
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    emailKey: row.email_key,
    passwordHash: row.password_hash,
    name: row.name,
    roles: parseStringArray(row.roles),
    status: row.status === 'disabled' ? 'disabled' : 'active',
    tokenVersion: row.token_version,
    tokensValidAfter: row.tokens_valid_after,
    devicesValidAfter: row.devices_valid_after ?? row.tokens_valid_after,
    credentialGeneration: row.credential_generation,
    createdVia: row.created_via,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    emailVerifiedAt: row.email_verified_at ?? null,
  };
}

export async function createUser(db: Db, input: NewUser, now: number): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      id: randomUUID(),
      email: displayEmail(input.email),
      email_key: emailKey(input.email),
      password_hash: input.passwordHash,
      name: input.name ?? null,
      roles: JSON.stringify(input.roles ?? []),
      status: input.status ?? 'active',
      token_version: 1,
      tokens_valid_after: 0,
      devices_valid_after: null,
      credential_generation: 0,
      created_via: input.createdVia ?? 'unknown',
      created_at: now,
      updated_at: now,
      email_verified_at: input.emailVerifiedAt ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

/** `getUserBy`'s two reads, compiled once (see precompiled.ts): every sign-in runs both. */
const userByEmailKeyQuery = precompiled(['key'], (db, v) =>
  db.selectFrom('users').selectAll().where('email_key', '=', v.key),
);
const userByIdQuery = precompiled(['key'], (db, v) =>
  db.selectFrom('users').selectAll().where('id', '=', v.key),
);

export async function getUserBy(db: Db, column: 'id' | 'email', value: string): Promise<User | undefined> {
  const key = column === 'email' ? emailKeyOf(value) : value;
  if (key === undefined) return undefined; // no account can have such an address
  const row = await (column === 'email' ? userByEmailKeyQuery : userByIdQuery)(db, { key });
  return row && toUser(row as Selectable<UsersTable>);
}

/** `LIKE` pattern for a substring, with the wildcards in it escaped. */
function containsPattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function matching(db: Db, q: string | undefined) {
  const query = db.selectFrom('users');
  if (q === undefined || q.trim() === '') return query;
  const pattern = containsPattern(q.trim());
  return query.where((eb) =>
    eb.or([
      eb(eb.fn('lower', ['email']), 'like', sql<string>`${pattern} escape '\\'`),
      eb(eb.fn('lower', ['name']), 'like', sql<string>`${pattern} escape '\\'`),
    ]),
  );
}

/** A page of the users matching `q`, oldest first, and how many match in all. */
export async function searchUsers(db: Db, query: UserQuery): Promise<{ users: User[]; total: number }> {
  const [rows, count] = await Promise.all([
    matching(db, query.q)
      .selectAll()
      .orderBy('created_at')
      .orderBy('id')
      .limit(query.limit)
      .offset(query.offset ?? 0)
      .execute(),
    matching(db, query.q)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { users: rows.map(toUser), total: Number(count.n) };
}

/** Deletes a user; sessions, refresh tokens and one-time tokens go with it (ON DELETE CASCADE). */
export async function deleteUser(db: Db, id: string): Promise<User | undefined> {
  const row = await db.deleteFrom('users').where('id', '=', id).returningAll().executeTakeFirst();
  return row && toUser(row);
}

/**
 * Compare-and-set on the password hash: replaces it only while it is still `expected`, so of two resets racing on
 * one credential only the first wins. Undefined when the user is gone or the hash changed.
 */
export async function replacePasswordHash(
  db: Db,
  id: string,
  expected: { passwordHash: string; email: string },
  next: string,
  now: number,
): Promise<User | undefined> {
  const row = await db
    .updateTable('users')
    .set({ password_hash: next, updated_at: now })
    .where('id', '=', id)
    .where('password_hash', '=', expected.passwordHash)
    .where('email', '=', expected.email)
    .returningAll()
    .executeTakeFirst();
  return row && toUser(row);
}

/** Records the address as verified, only while it is still the user's email. */
export async function markEmailVerified(
  db: Db,
  id: string,
  email: string,
  now: number,
): Promise<User | undefined> {
  const row = await db
    .updateTable('users')
    .set({ email_verified_at: now, updated_at: now })
    .where('id', '=', id)
    .where('email_key', '=', storedEmailKey(email))
    .returningAll()
    .executeTakeFirst();
  return row && toUser(row);
}

/**
 * Holds the user's row to the end of the transaction (`FOR NO KEY UPDATE` on PostgreSQL, which still lets rows
 * referring to the user be inserted; SQLite transactions are serial); whether the user exists.
 */
export async function holdUser(db: Db, dialect: 'sqlite' | 'postgres', id: string): Promise<boolean> {
  let read = db.selectFrom('users').select('id').where('id', '=', id);
  if (dialect === 'postgres') read = read.forNoKeyUpdate();
  return (await read.executeTakeFirst()) !== undefined;
}

/** The current emails of the given users that still exist, by id. */
export async function emailsOf(db: Db, ids: readonly string[]): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'email'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r.email]));
}

export async function listUsers(db: Db, limit: number, offset: number): Promise<User[]> {
  const rows = await db
    .selectFrom('users')
    .selectAll()
    .orderBy('created_at')
    .orderBy('id')
    .limit(limit)
    .offset(offset)
    .execute();
  return rows.map(toUser);
}

/** The columns an update may change. */
interface UserPatch {
  password_hash?: string;
  status?: UserStatus;
  roles?: string;
  tokens_valid_after?: number;
  email?: string;
  email_key?: string;
  name?: string | null;
  email_verified_at?: number | null;
}

/** Counters an update may increment in the same statement. */
export interface UserBumps {
  /** `token_version = token_version + 1`: tokens carrying the old `ver` go stale. */
  version?: boolean;
  /** `credential_generation = credential_generation + 1`: every existing session ends. */
  generation?: boolean;
}

/**
 * One UPDATE … RETURNING on a user; undefined when there is no such user, or when `expectHash` is given and the
 * stored password hash is no longer that one (compare-and-swap).
 */
/**
 * What an email change expects the account to still be, or it changes nothing: the address the link was sent for,
 * the credential generation it was issued in (a password change or reset, signing out everywhere or a disable since
 * bumps it) and active. Two links confirmed at once cannot both win: the first changes the address.
 */
export interface EmailChangeExpectation {
  email: string;
  credentialGeneration: number;
}

export async function updateUser(
  db: Db,
  id: string,
  patch: UserPatch,
  bumps: UserBumps,
  now: number,
  expectHash?: string,
  expectAccount?: EmailChangeExpectation,
): Promise<User | undefined> {
  let query = db
    .updateTable('users')
    .set((eb) => ({
      ...patch,
      updated_at: now,
      ...(bumps.version ? { token_version: eb('token_version', '+', 1) } : {}),
      ...(bumps.generation ? { credential_generation: eb('credential_generation', '+', 1) } : {}),
    }))
    .where('id', '=', id);
  if (expectHash !== undefined) query = query.where('password_hash', '=', expectHash);
  if (expectAccount !== undefined) {
    query = query
      .where('email', '=', expectAccount.email)
      .where('credential_generation', '=', expectAccount.credentialGeneration)
      .where('status', '=', 'active');
  }
  const row = await query.returningAll().executeTakeFirst();
  return row && toUser(row);
}

/** Matches the JSON `roles` text of a user holding `admin` (role names cannot contain quotes). */
const ADMIN_ROLE_LIKE = '%"admin"%';

/** A user as an update found and left it. */
export interface UserChange {
  before: User;
  after: User;
  /** False when the patch, computed from `before`, asked for no change: nothing was written (`after` is `before`). */
  changed: boolean;
}

/**
 * Applies `patch` to user `id` unless it would leave no active admin: the active admins' rows are locked first
 * (`FOR UPDATE` on Postgres; SQLite transactions are serial), so two admins demoting each other at once cannot both
 * succeed; then the user's own row (always in that order, so two changes never wait on each other in a circle), and
 * read as it was before the change: a concurrent change of the same user waits, and sees this one's result. A
 * `patch` given as a function is computed from that held row (for changes relative to the current value, such as
 * adding a role); when it returns undefined (the row is already as wanted) nothing is written, no version moves,
 * and the result says `changed: false`. Returns `'last_admin'` when refused.
 */
export async function updateUnlessLastAdmin(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  id: string,
  patch: UserPatch | ((before: User) => UserPatch | undefined),
  bumps: UserBumps,
  now: number,
): Promise<UserChange | undefined | 'last_admin'> {
  return inTransaction(db, async (tx) => {
    let admins = tx
      .selectFrom('users')
      .select(['id', 'status', 'roles'])
      .where('status', '=', 'active')
      .where('roles', 'like', ADMIN_ROLE_LIKE);
    if (dialect === 'postgres') admins = admins.forUpdate();
    const current = await admins.execute();
    let read = tx.selectFrom('users').selectAll().where('id', '=', id);
    if (dialect === 'postgres') read = read.forUpdate();
    const row = await read.executeTakeFirst();
    if (row === undefined) return undefined;
    const before = toUser(row);
    const next = typeof patch === 'function' ? patch(before) : { ...patch };
    if (next === undefined) return { before, after: before, changed: false };
    const targetIsAdmin = current.some((r) => r.id === id);
    const staysAdmin =
      (next.status === undefined || next.status === 'active') &&
      (next.roles === undefined || parseStringArray(next.roles).includes('admin'));
    if (targetIsAdmin && !staysAdmin && current.length <= 1) return 'last_admin';
    const after = await updateUser(tx, id, next, bumps, now);
    return after && { before, after, changed: true };
  });
}

/**
 * Deletes user `id` unless it is the last active admin (same locking as {@link updateUnlessLastAdmin}); returns the
 * deleted user, undefined when there is none, or `'last_admin'`.
 */
export async function deleteUnlessLastAdmin(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  id: string,
): Promise<User | undefined | 'last_admin'> {
  return inTransaction(db, async (tx) => {
    let admins = tx
      .selectFrom('users')
      .select(['id'])
      .where('status', '=', 'active')
      .where('roles', 'like', ADMIN_ROLE_LIKE);
    if (dialect === 'postgres') admins = admins.forUpdate();
    const current = await admins.execute();
    if (current.length <= 1 && current.some((row) => row.id === id)) return 'last_admin';
    return deleteUser(tx, id);
  });
}

/** What a cut-off leaves alone. */
export interface CutOffOptions {
  /** This session (of this user, unrevoked) moves to the new generation in the same transaction. */
  keepSession?: string;
  /**
   * The device cut-off stays where it stood (`devices_valid_after` takes the old cut-off when it was null): the
   * account's device credentials and known devices outlive this cut-off. For the automatic one others' failures set.
   */
  keepDevices?: boolean;
}

/**
 * `tokens_valid_after = max(tokens_valid_after, validAfter)` and `credential_generation + 1` in one UPDATE, the
 * device cut-off moving with it (`devices_valid_after` null: the same) unless `keepDevices`; with `keepSession`, that
 * session (of this user, unrevoked) moves to the new generation in the same transaction.
 */
export async function cutOffUser(
  db: Db,
  id: string,
  validAfter: number,
  now: number,
  options: CutOffOptions = {},
): Promise<User | undefined> {
  const { keepSession, keepDevices = false } = options;
  if (keepSession !== undefined) {
    return inTransaction(db, async (tx) => {
      const user = await cutOffUser(tx, id, validAfter, now, { keepDevices });
      if (user !== undefined) {
        await tx
          .updateTable('sessions')
          .set({ credential_generation: user.credentialGeneration })
          .where('id', '=', keepSession)
          .where('user_id', '=', id)
          .where('revoked_at', 'is', null)
          .execute();
      }
      return user;
    });
  }
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      tokens_valid_after: eb
        .case()
        .when('tokens_valid_after', '>', validAfter)
        .then(eb.ref('tokens_valid_after'))
        .else(validAfter)
        .end(),
      // Both read the row as it was: kept, the device cut-off is the old account cut-off when it had none of its own.
      devices_valid_after: keepDevices
        ? eb.fn.coalesce('devices_valid_after', 'tokens_valid_after')
        : sql<number | null>`NULL`,
      credential_generation: eb('credential_generation', '+', 1),
      updated_at: now,
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && toUser(row);
}

/**
 * The distinct parameter prefixes of the stored password hashes (`$argon2id$v=19$m=…,t=…,p=…`: the PHC string up to
 * its salt), at most `limit`, computed by the database (one scan of `users`, no hash leaves it). Hashes without an
 * `$m=` part are left out.
 */
export async function passwordHashParameters(
  db: Db,
  dialect: 'sqlite' | 'postgres',
  limit: number,
): Promise<string[]> {
  const pos = sql.raw(dialect === 'postgres' ? 'strpos' : 'instr');
  // The `$` before `m=` is at i; the next `$` (before the salt) is j characters after it.
  const i = sql`${pos}(password_hash, '$m=')`;
  const j = sql`${pos}(substr(password_hash, ${i} + 1), '$')`;
  const { rows } = await sql<{ prefix: string }>`
    select distinct substr(password_hash, 1, ${i} + ${j} - 1) as prefix
    from users
    where ${i} > 0
    order by prefix
    limit ${limit}`.execute(db);
  return rows.map((row) => row.prefix);
}
