/**
 * Queries on `users`. Every authorization change that must invalidate issued access tokens
 * bumps `token_version` inside the same UPDATE, so no reader ever sees new roles with an old version.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Kysely, Selectable } from 'kysely';
import { parseStringArray } from './json.js';
import type { Schema, UsersTable } from './schema.js';

/** Account status. */
export type UserStatus = 'active' | 'disabled';

/** A user as callers see it. Times are epoch ms. */
export interface User {
  id: string;
  /** Trimmed and lowercased. */
  email: string;
  passwordHash: string;
  name: string | null;
  roles: string[];
  status: UserStatus;
  /** The `ver` claim current tokens must carry. */
  tokenVersion: number;
  /** Tokens issued before this time are invalid; 0 = none. */
  tokensValidAfter: number;
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
}

/** Filter and page of `searchUsers`. */
export interface UserQuery {
  /** Case-insensitive substring of the email or name. */
  q?: string;
  limit: number;
  offset?: number;
}

type Db = Kysely<Schema>;

/** The canonical form emails are stored and looked up in. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function toUser(row: Selectable<UsersTable>): User {
  return {
    id: row.id,
    email: row.email,
    passwordHash: row.password_hash,
    name: row.name,
    roles: parseStringArray(row.roles),
    status: row.status === 'disabled' ? 'disabled' : 'active',
    tokenVersion: row.token_version,
    tokensValidAfter: row.tokens_valid_after,
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
      email: normalizeEmail(input.email),
      password_hash: input.passwordHash,
      name: input.name ?? null,
      roles: JSON.stringify(input.roles ?? []),
      status: input.status ?? 'active',
      token_version: 1,
      tokens_valid_after: 0,
      created_at: now,
      updated_at: now,
      email_verified_at: input.emailVerifiedAt ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export async function getUserBy(db: Db, column: 'id' | 'email', value: string): Promise<User | undefined> {
  const key = column === 'email' ? normalizeEmail(value) : value;
  const row = await db.selectFrom('users').selectAll().where(column, '=', key).executeTakeFirst();
  return row && toUser(row);
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
  expected: string,
  next: string,
  now: number,
): Promise<User | undefined> {
  const row = await db
    .updateTable('users')
    .set({ password_hash: next, updated_at: now })
    .where('id', '=', id)
    .where('password_hash', '=', expected)
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
    .where('email', '=', normalizeEmail(email))
    .returningAll()
    .executeTakeFirst();
  return row && toUser(row);
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

/** The columns an update may change; `bumpVersion` adds `token_version = token_version + 1`. */
interface UserPatch {
  password_hash?: string;
  status?: UserStatus;
  roles?: string;
  tokens_valid_after?: number;
  email?: string;
  name?: string | null;
  email_verified_at?: number | null;
}

/** One UPDATE … RETURNING on a user; undefined when there is no such user. */
export async function updateUser(
  db: Db,
  id: string,
  patch: UserPatch,
  bumpVersion: boolean,
  now: number,
): Promise<User | undefined> {
  const row = await db
    .updateTable('users')
    .set((eb) => ({
      ...patch,
      updated_at: now,
      ...(bumpVersion ? { token_version: eb('token_version', '+', 1) } : {}),
    }))
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirst();
  return row && toUser(row);
}
