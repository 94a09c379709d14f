/**
 * Queries on `users`. Every authorization change that must invalidate issued access tokens
 * bumps `token_version` inside the same UPDATE, so no reader ever sees new roles with an old version.
 */
import { randomUUID } from 'node:crypto';
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
}

/** Input of `createUser`. */
export interface NewUser {
  email: string;
  passwordHash: string;
  name?: string | null;
  roles?: readonly string[];
  status?: UserStatus;
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
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export async function countUsers(db: Db): Promise<number> {
  const row = await db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function getUserBy(db: Db, column: 'id' | 'email', value: string): Promise<User | undefined> {
  const key = column === 'email' ? normalizeEmail(value) : value;
  const row = await db.selectFrom('users').selectAll().where(column, '=', key).executeTakeFirst();
  return row && toUser(row);
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
