/** Queries on `security_events`: an append-only audit trail, read newest first. */
import { sql, type Kysely, type Selectable } from 'kysely';

import { parseJsonObject } from './json.js';
import type { JsonObject } from './json.js';
import { precompiled } from './precompiled.js';
import { inTransaction } from './transaction.js';
import type { Schema, SecurityEventsTable } from './schema.js';

/** A security event. */
export interface SecurityEvent {
  id: number;
  /** e.g. `'refresh_token_reuse'`, `'login_failed'`, `'user_disabled'`. */
  type: string;
  userId: string | null;
  sessionId: string | null;
  ip: string | null;
  /** Event-specific detail; never secrets. */
  detail: JsonObject;
  createdAt: number;
}

/** Input of `addSecurityEvent`. */
export interface NewSecurityEvent {
  type: string;
  userId?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  detail?: JsonObject;
}

/** Filter of `listSecurityEvents`. */
export interface SecurityEventQuery {
  limit: number;
  /** Only events with an id below this (the previous page's last id). */
  before?: number;
  userId?: string;
  type?: string;
}

type Db = Kysely<Schema>;

function toSecurityEvent(row: Selectable<SecurityEventsTable>): SecurityEvent {
  return {
    id: row.id,
    type: row.type,
    userId: row.user_id,
    sessionId: row.session_id,
    ip: row.ip,
    detail: parseJsonObject(row.detail),
    createdAt: row.created_at,
  };
}

const EVENT_VALUES = ['type', 'userId', 'sessionId', 'ip', 'detail', 'now'] as const;

/** `addSecurityEvent`'s INSERT without `RETURNING`. */
function insertEvent(db: Db, v: Record<(typeof EVENT_VALUES)[number], string>) {
  return db.insertInto('security_events').values({
    type: v.type,
    user_id: v.userId,
    session_id: v.sessionId,
    ip: v.ip,
    detail: v.detail,
    created_at: sql<number>`${v.now}`,
  });
}

/** `addSecurityEvent`'s INSERT, compiled once (see precompiled.ts): every sign-in records one. */
const insertEventQuery = precompiled([...EVENT_VALUES], (db, v) => insertEvent(db, v).returningAll());

/** The same INSERT without `RETURNING`: nothing read back, no JSON parsed again. */
const insertEventQuietlyQuery = precompiled([...EVENT_VALUES], insertEvent);

/** The bound values of both INSERTs. */
function eventValues(input: NewSecurityEvent, now: number): Record<(typeof EVENT_VALUES)[number], unknown> {
  return {
    type: input.type,
    userId: input.userId ?? null,
    sessionId: input.sessionId ?? null,
    ip: input.ip ?? null,
    detail: JSON.stringify(input.detail ?? {}),
    now,
  };
}

/** Appends a security event, reading nothing back. */
export async function insertSecurityEvent(db: Db, input: NewSecurityEvent, now: number): Promise<void> {
  await insertEventQuietlyQuery(db, eventValues(input, now));
}

export async function addSecurityEvent(db: Db, input: NewSecurityEvent, now: number): Promise<SecurityEvent> {
  const row = await insertEventQuery(db, eventValues(input, now));
  if (row === undefined) throw new Error('INSERT … RETURNING gave no row');
  return toSecurityEvent(row as Selectable<SecurityEventsTable>);
}

/**
 * Appends `input` unless its session already accounts for it (see `Store.addSessionEventOnce`): the session's row is
 * held first — a no-op UPDATE, a row lock on PostgreSQL and the write lock on SQLite, as `withUserLocked` holds a
 * user's — so concurrent callers take turns, and each later one sees the event the first appended.
 */
export async function addSessionEventOnce(
  db: Db,
  input: NewSecurityEvent & { userId: string; sessionId: string },
  now: number,
): Promise<SecurityEvent | undefined> {
  return inTransaction(db, async (tx) => {
    const held = await tx
      .updateTable('sessions')
      .set((eb) => ({ revoked_reason: eb.ref('revoked_reason') }))
      .where('id', '=', input.sessionId)
      .where((eb) => eb.or([eb('revoked_reason', 'is', null), eb('revoked_reason', '<>', input.type)]))
      .executeTakeFirst();
    if (held.numUpdatedRows === 0n) return undefined;
    const recorded = await tx
      .selectFrom('security_events')
      .select('id')
      .where('user_id', '=', input.userId)
      .where('session_id', '=', input.sessionId)
      .where('type', '=', input.type)
      .limit(1)
      .executeTakeFirst();
    return recorded === undefined ? addSecurityEvent(tx, input, now) : undefined;
  });
}

/** Appends `input` if its user exists, holding the user's row meanwhile (see `Store.addUserEvent`). */
export async function addUserEvent(
  db: Db,
  input: NewSecurityEvent & { userId: string },
  now: number,
): Promise<SecurityEvent | undefined> {
  return inTransaction(db, async (tx) => {
    const held = await tx
      .updateTable('users')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('id', '=', input.userId)
      .executeTakeFirst();
    return held.numUpdatedRows === 0n ? undefined : addSecurityEvent(tx, input, now);
  });
}

export async function listSecurityEvents(db: Db, query: SecurityEventQuery): Promise<SecurityEvent[]> {
  let q = db.selectFrom('security_events').selectAll();
  if (query.before !== undefined) q = q.where('id', '<', query.before);
  if (query.userId !== undefined) q = q.where('user_id', '=', query.userId);
  if (query.type !== undefined) q = q.where('type', '=', query.type);
  const rows = await q.orderBy('id', 'desc').limit(query.limit).execute();
  return rows.map(toSecurityEvent);
}

/**
 * Clears the personal data of every event about a user — the IP address and the detail (which may hold addresses,
 * devices or networks) — keeping what happened and when; returns how many.
 */
export async function scrubSecurityEvents(db: Db, userId: string): Promise<number> {
  const result = await db
    .updateTable('security_events')
    .set({ ip: null, detail: '{}' })
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
