/**
 * Queries on `sessions`. A session is live while it is not revoked, not past its absolute expiry
 * and, if it has an idle timeout, used within it; that rule is written once, in {@link liveAt}.
 */
import { randomUUID } from 'node:crypto';
import {
  sql,
  type Expression,
  type ExpressionBuilder,
  type Kysely,
  type QueryCreator,
  type RawBuilder,
  type Selectable,
  type SqlBool,
} from 'kysely';

import { isSessionDelivery, type SessionDelivery } from '@jot/contract';

import { parseStringArray } from './json.js';
import { precompiled } from './precompiled.js';
import type { Schema, SessionsTable } from './schema.js';

/** How a session's tokens are issued: a rotating refresh token, or a single access token. */
export type SessionMode = 'refresh' | 'single';

/** How a session's tokens reach the client: JSON body, HttpOnly cookies, or access in body + refresh cookie. */
export type { SessionDelivery };

/** A session (refresh-token family) as callers see it. Times are epoch ms. */
export interface Session {
  /** The JWT `sid`. */
  id: string;
  userId: string;
  createdAt: number;
  lastUsedAt: number;
  absoluteExpiresAt: number;
  idleTimeoutMs: number | null;
  revokedAt: number | null;
  revokedReason: string | null;
  /** Last password authentication. */
  authTime: number;
  userAgent: string | null;
  ip: string | null;
  csrfHash: string | null;
  mode: SessionMode;
  /** How the session's tokens reach the client. */
  delivery: SessionDelivery;
  /** The OAuth client the session's tokens are issued to. */
  clientId: string;
  /** RFC 8176 methods of the last authentication (e.g. `['pwd']`, `['pwd', 'otp', 'mfa']`). */
  amr: string[];
  /** Assurance level of the last authentication: `'aal1'` (one factor) or `'aal2'` (two). */
  acr: string;
  /** Thumbprint of the DPoP key the session's tokens are bound to, or null. */
  dpopJkt: string | null;
  /** The user's credential generation when the sign-in began; the session is dead once the user's differs. */
  credentialGeneration: number;
}

/** Input of `createSession`. */
export interface NewSession {
  /** Defaults to a random UUID. */
  id?: string;
  userId: string;
  absoluteExpiresAt: number;
  idleTimeoutMs?: number | null;
  /** Defaults to now. */
  authTime?: number;
  userAgent?: string | null;
  ip?: string | null;
  csrfHash?: string | null;
  /** @default 'refresh' */
  mode?: SessionMode;
  /** @default 'bearer' */
  delivery?: SessionDelivery;
  /** @default 'jot' (the first-party client) */
  clientId?: string;
  /** @default ['pwd'] */
  amr?: readonly string[];
  /** @default 'aal1' */
  acr?: string;
  /** Bind the session to this DPoP key thumbprint. @default null */
  dpopJkt?: string | null;
  /** The user's `credentialGeneration` read before the password check. @default 0 */
  credentialGeneration?: number;
}

type Db = Kysely<Schema>;

export function toSession(row: Selectable<SessionsTable>): Session {
  return {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    absoluteExpiresAt: row.absolute_expires_at,
    idleTimeoutMs: row.idle_timeout_ms,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
    authTime: row.auth_time,
    userAgent: row.user_agent,
    ip: row.ip,
    csrfHash: row.csrf_hash,
    mode: row.mode === 'single' ? 'single' : 'refresh',
    delivery: isSessionDelivery(row.delivery) ? row.delivery : 'bearer',
    clientId: row.client_id,
    amr: parseStringArray(row.amr),
    acr: row.acr,
    dpopJkt: row.dpop_jkt ?? null,
    credentialGeneration: row.credential_generation,
  };
}

/** The columns `createSession` binds, by name. */
export const SESSION_VALUES = [
  'id',
  'userId',
  'now',
  'absoluteExpiresAt',
  'idleTimeoutMs',
  'authTime',
  'userAgent',
  'ip',
  'csrfHash',
  'mode',
  'delivery',
  'clientId',
  'amr',
  'acr',
  'dpopJkt',
  'credentialGeneration',
] as const;

/** The INSERT of a session (`v`: a value or stand-in for each of {@link SESSION_VALUES}), its row returned. */
export function insertSession(db: QueryCreator<Schema>, v: Record<(typeof SESSION_VALUES)[number], string>) {
  const number = (standIn: string) => sql<number>`${standIn}`;
  return db
    .insertInto('sessions')
    .values({
      id: v.id,
      user_id: v.userId,
      created_at: number(v.now),
      last_used_at: number(v.now),
      absolute_expires_at: number(v.absoluteExpiresAt),
      idle_timeout_ms: sql<number | null>`${v.idleTimeoutMs}`,
      revoked_at: null,
      revoked_reason: null,
      auth_time: number(v.authTime),
      user_agent: v.userAgent,
      ip: v.ip,
      csrf_hash: v.csrfHash,
      mode: v.mode,
      delivery: v.delivery,
      client_id: v.clientId,
      amr: v.amr,
      acr: v.acr,
      dpop_jkt: v.dpopJkt,
      credential_generation: number(v.credentialGeneration),
    })
    .returningAll();
}

/** `createSession`'s INSERT, compiled once (see precompiled.ts): every sign-in runs it. */
const insertSessionQuery = precompiled(SESSION_VALUES, (db, v) => insertSession(db, v));

/** The values {@link insertSession} binds for `input`. */
export function sessionBindings(
  input: NewSession,
  now: number,
): Record<(typeof SESSION_VALUES)[number], unknown> {
  return {
    id: input.id ?? randomUUID(),
    userId: input.userId,
    now,
    absoluteExpiresAt: input.absoluteExpiresAt,
    idleTimeoutMs: input.idleTimeoutMs ?? null,
    authTime: input.authTime ?? now,
    userAgent: input.userAgent ?? null,
    ip: input.ip ?? null,
    csrfHash: input.csrfHash ?? null,
    mode: input.mode ?? 'refresh',
    delivery: input.delivery ?? 'bearer',
    clientId: input.clientId ?? 'jot',
    amr: JSON.stringify(input.amr ?? ['pwd']),
    acr: input.acr ?? 'aal1',
    dpopJkt: input.dpopJkt ?? null,
    credentialGeneration: input.credentialGeneration ?? 0,
  };
}

export async function createSession(db: Db, input: NewSession, now: number): Promise<Session> {
  const row = await insertSessionQuery(db, sessionBindings(input, now));
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return toSession(row as Selectable<SessionsTable>);
}

export async function getSession(db: Db, id: string): Promise<Session | undefined> {
  const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toSession(row);
}

/**
 * The live-session predicate: not revoked, before its absolute expiry and, if it has an idle timeout, used within
 * it at `now`. Every query that asks "is this session live" builds its WHERE from here.
 */
function liveAt(
  eb: ExpressionBuilder<Schema, 'sessions'>,
  now: number | RawBuilder<number>,
): Expression<SqlBool> {
  return eb.and([
    eb('revoked_at', 'is', null),
    eb('absolute_expires_at', '>', now),
    eb.or([
      eb('idle_timeout_ms', 'is', null),
      eb(eb('last_used_at', '+', eb.ref('idle_timeout_ms')), '>', now),
    ]),
  ]);
}

/**
 * The touch: `UPDATE sessions SET last_used_at = now` where the session is live and its user active on the
 * session's credential generation, `RETURNING *`. Built here once for `touchLiveSession` and for the PostgreSQL
 * rotation that runs it as the first step of one statement (refresh-tokens.ts).
 */
export function touchLive(db: QueryCreator<Schema>, id: string, now: RawBuilder<number>) {
  return db
    .updateTable('sessions')
    .set({ last_used_at: now })
    .where('id', '=', id)
    .where((eb) => liveAt(eb, now))
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('users')
          .select('users.id')
          .whereRef('users.id', '=', 'sessions.user_id')
          .where('users.status', '=', 'active')
          .whereRef('users.credential_generation', '=', 'sessions.credential_generation'),
      ),
    )
    .returningAll();
}

/** `touchLiveSession`'s UPDATE, compiled once (see precompiled.ts). */
const touchLiveQuery = precompiled(['id', 'now'], (db, v) => touchLive(db, v.id, sql<number>`${v.now}`));

/**
 * Marks a session used at `now` if it is live (not revoked, within its absolute expiry and idle timeout) and its
 * user is active on the session's credential generation; returns the session as it now stands, or undefined when
 * any of that fails. One statement: in PostgreSQL it also locks the session row until the transaction ends, so a
 * concurrent revocation (which updates the same row first) is either seen here or waits for this transaction.
 */
export async function touchLiveSession(db: Db, id: string, now: number): Promise<Session | undefined> {
  const row = await touchLiveQuery(db, { id, now });
  return row && toSession(row as Selectable<SessionsTable>);
}

/** `SELECT * FROM sessions` restricted to sessions live at `now`. */
function liveSessions(db: Db, now: number) {
  return db
    .selectFrom('sessions')
    .selectAll()
    .where((eb) => liveAt(eb, now));
}

export async function listLiveSessionsForUser(db: Db, userId: string, now: number): Promise<Session[]> {
  const rows = await liveSessions(db, now)
    .where('user_id', '=', userId)
    .orderBy('last_used_at', 'desc')
    .orderBy('id')
    .execute();
  return rows.map(toSession);
}

/** The columns a session update may change. */
type SessionPatch = Partial<Pick<SessionsTable, 'last_used_at' | 'auth_time'> & { amr: string; acr: string }>;

/** UPDATE a session that is not revoked; whether a row changed. */
export async function updateUnrevokedSession(db: Db, id: string, patch: SessionPatch): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set(patch)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Binds an unbound, unrevoked session to a DPoP key (`WHERE dpop_jkt IS NULL`): of concurrent binds exactly one
 * changes the row. Resolves to the thumbprint the session is bound to afterwards (this one or an earlier one), or
 * undefined when the session is revoked or gone.
 */
export async function bindSessionDPoPKey(db: Db, id: string, jkt: string): Promise<string | undefined> {
  await db
    .updateTable('sessions')
    .set({ dpop_jkt: jkt })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .where('dpop_jkt', 'is', null)
    .executeTakeFirst();
  const row = await db
    .selectFrom('sessions')
    .select(['dpop_jkt', 'revoked_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  return row === undefined || row.revoked_at !== null ? undefined : (row.dpop_jkt ?? undefined);
}

export async function revokeSession(db: Db, id: string, reason: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('sessions')
    .set({ revoked_at: now, revoked_reason: reason })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}
