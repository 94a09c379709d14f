/**
 * Queries on `mail_outbox`. Enqueueing is idempotent (the unique key decides), claiming is one conditional UPDATE
 * that re-checks the lease in its own WHERE (so of several instances claiming at once each row goes to one), and
 * every later write names the lease owner, so a sender whose lease ran out cannot overwrite its successor's result.
 */
import { randomUUID } from 'node:crypto';

import type { Kysely, Selectable } from 'kysely';

import type { DialectName, MailOutboxTable, Schema } from './schema.js';

/** Where a message stands. */
export type OutboxStatus = 'pending' | 'sent' | 'failed';

/** A queued message (its payload stays sealed; only the sender opens it). */
export interface OutboxMessage {
  id: string;
  idempotencyKey: string;
  template: string;
  to: string;
  /** Sealed rendered message; `''` once sent. */
  payload: string;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  leaseOwner: string | null;
  leaseUntil: number | null;
  lastError: string | null;
  createdAt: number;
  sentAt: number | null;
  /** The account the message is about; null for mail to no account (an invitation) or queued before 0012. */
  userId: string | null;
}

/** Input of `enqueueMail`. */
export interface NewOutboxMessage {
  idempotencyKey: string;
  template: string;
  to: string;
  payload: string;
  /** The account the message is about, so deleting the account deletes it; absent for mail to no account. */
  userId?: string;
}

/** Filter of `listOutbox`. */
export interface OutboxQuery {
  status?: OutboxStatus;
  limit: number;
  offset?: number;
}

type Db = Kysely<Schema>;

/** The form of a recipient the mailer queues (and the transport sends to): trimmed and lower-cased, as typed. */
export function outboxAddress(to: string): string {
  return to.trim().toLowerCase();
}

function toMessage(row: Selectable<MailOutboxTable>): OutboxMessage {
  return {
    id: row.id,
    idempotencyKey: row.idempotency_key,
    template: row.template,
    to: row.to_address,
    payload: row.payload,
    status: row.status === 'sent' || row.status === 'failed' ? row.status : 'pending',
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    leaseOwner: row.lease_owner,
    leaseUntil: row.lease_until,
    lastError: row.last_error,
    createdAt: row.created_at,
    sentAt: row.sent_at,
    userId: row.user_id,
  };
}

/** Inserts the message unless its key exists; returns the row with that key and whether this call created it. */
export async function enqueueMail(
  db: Db,
  input: NewOutboxMessage,
  now: number,
): Promise<{ message: OutboxMessage; created: boolean }> {
  const inserted = await db
    .insertInto('mail_outbox')
    .values({
      id: randomUUID(),
      idempotency_key: input.idempotencyKey,
      template: input.template,
      to_address: input.to,
      payload: input.payload,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      lease_owner: null,
      lease_until: null,
      last_error: null,
      created_at: now,
      sent_at: null,
      user_id: input.userId ?? null,
    })
    .onConflict((oc) => oc.column('idempotency_key').doNothing())
    .returningAll()
    .executeTakeFirst();
  if (inserted) return { message: toMessage(inserted), created: true };
  const existing = await db
    .selectFrom('mail_outbox')
    .selectAll()
    .where('idempotency_key', '=', input.idempotencyKey)
    .executeTakeFirstOrThrow();
  return { message: toMessage(existing), created: false };
}

/**
 * Leases up to `limit` due messages to `owner` until `now + leaseMs`, counting an attempt on each. One UPDATE whose
 * WHERE re-checks status and lease on the row itself, so concurrent claimers never both get a row.
 */
export async function claimDueMail(
  db: Db,
  dialect: DialectName,
  owner: string,
  limit: number,
  leaseMs: number,
  now: number,
): Promise<OutboxMessage[]> {
  let due = db
    .selectFrom('mail_outbox')
    .select('id')
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .orderBy('next_attempt_at')
    .limit(limit);
  // Postgres: rows another claimer is taking right now are skipped rather than waited for and then dropped, so
  // concurrent senders each get a full batch of different rows. (SQLite serialises writers anyway.)
  if (dialect === 'postgres') due = due.forUpdate().skipLocked();
  const rows = await db
    .updateTable('mail_outbox')
    .set((eb) => ({ lease_owner: owner, lease_until: now + leaseMs, attempts: eb('attempts', '+', 1) }))
    .where('id', 'in', due)
    .where('status', '=', 'pending')
    .where('next_attempt_at', '<=', now)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<=', now)]))
    .returningAll()
    .execute();
  return rows.map(toMessage);
}

/**
 * Extends `owner`'s lease on a message to `now + leaseMs`, right before a delivery: only while the row is still
 * pending and leased to `owner`. One conditional UPDATE, so it and a claim by another sender (whose WHERE needs the
 * lease to have run out) cannot both succeed: false means another sender has the row (or it is settled), and it
 * must not be delivered. A lease that ran out but that nobody claimed yet is still `owner`'s to renew.
 */
export async function renewMailLease(
  db: Db,
  id: string,
  owner: string,
  leaseMs: number,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({ lease_until: now + leaseMs })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Marks a leased message sent and drops its payload (links in it must not outlive delivery). */
export async function markMailSent(db: Db, id: string, owner: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({
      status: 'sent',
      sent_at: now,
      payload: '',
      lease_owner: null,
      lease_until: null,
      last_error: null,
    })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Releases a leased message after a failed attempt: due again at `retryAt`, or `failed` when `giveUp`. */
export async function markMailFailed(
  db: Db,
  id: string,
  owner: string,
  failure: { error: string; retryAt: number; giveUp: boolean },
): Promise<boolean> {
  const result = await db
    .updateTable('mail_outbox')
    .set({
      status: failure.giveUp ? 'failed' : 'pending',
      next_attempt_at: failure.retryAt,
      last_error: failure.error.slice(0, 500),
      lease_owner: null,
      lease_until: null,
    })
    .where('id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Makes failed (or pending) messages due now with a fresh attempt count; all failed ones when `ids` is empty. A
 * lease that still holds is kept (a sender is delivering the row right now: clearing it would let a second sender
 * claim and send it too); one that ran out is cleared. Each CASE reads the row as it was before this UPDATE.
 */
export async function retryMail(db: Db, ids: readonly string[], now: number): Promise<number> {
  let q = db
    .updateTable('mail_outbox')
    .set((eb) => ({
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      lease_owner: eb.case().when('lease_until', '>', now).then(eb.ref('lease_owner')).else(null).end(),
      lease_until: eb.case().when('lease_until', '>', now).then(eb.ref('lease_until')).else(null).end(),
    }))
    .where('payload', '!=', '');
  q =
    ids.length > 0
      ? q.where('id', 'in', [...ids]).where('status', '!=', 'sent')
      : q.where('status', '=', 'failed');
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** Messages newest first. */
export async function listOutbox(db: Db, query: OutboxQuery): Promise<OutboxMessage[]> {
  let q = db.selectFrom('mail_outbox').selectAll();
  if (query.status !== undefined) q = q.where('status', '=', query.status);
  const rows = await q
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .limit(query.limit)
    .offset(query.offset ?? 0)
    .execute();
  return rows.map(toMessage);
}

/**
 * Deletes every message about an account (account deletion): those carrying its id, and those without an account
 * (queued before `user_id` existed, an invitation) to one of `addresses`; returns how many.
 */
export async function deleteMailOf(db: Db, userId: string, addresses: readonly string[]): Promise<number> {
  const result = await db
    .deleteFrom('mail_outbox')
    .where((eb) =>
      addresses.length === 0
        ? eb('user_id', '=', userId)
        : eb.or([
            eb('user_id', '=', userId),
            eb.and([eb('user_id', 'is', null), eb('to_address', 'in', [...addresses])]),
          ]),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
