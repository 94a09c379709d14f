/**
 * Queries on `invitations`: an invitation is accepted once, by one conditional UPDATE, and can be revoked; an address
 * has at most one open invitation (neither accepted nor revoked; migration 0016's unique index).
 */
import { randomUUID } from 'node:crypto';

import { sql, type Kysely, type Selectable } from 'kysely';

import { limitLockWaits } from './cluster.js';
import { parseStringArray } from './json.js';
import type { DialectName, InvitationsTable, Schema } from './schema.js';
import { storedEmailKey } from './email.js';
import { normalizeEmail } from './users.js';

/** An invitation. Times are epoch ms. */
export interface Invitation {
  id: string;
  email: string;
  roles: string[];
  invitedBy: string | null;
  createdAt: number;
  expiresAt: number;
  acceptedAt: number | null;
  revokedAt: number | null;
}

/** Input of `createInvitation`. */
export interface NewInvitation {
  email: string;
  roles: readonly string[];
  invitedBy: string | null;
  expiresAt: number;
}

type Db = Kysely<Schema>;

function toInvitation(row: Selectable<InvitationsTable>): Invitation {
  return {
    id: row.id,
    email: row.email,
    roles: parseStringArray(row.roles),
    invitedBy: row.invited_by,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    acceptedAt: row.accepted_at,
    revokedAt: row.revoked_at,
  };
}

/**
 * Makes the transaction wait for any other one creating an invitation to the same address, across instances, so that
 * its next statements see what that one committed: on PostgreSQL a transaction-scoped advisory lock keyed by the
 * address (two addresses sharing a hash merely queue too), waited for at most `LOCK_WAIT_LIMIT` (then
 * `ERR_STORE_UNAVAILABLE`), its holder's session ended by PostgreSQL after `LOCK_IDLE_LIMIT` idle in the
 * transaction (`limitLockWaits`, as for the cluster locks); `hashtextextended` needs PostgreSQL 11 or later. SQLite transactions are serial already. Without it, invitations created at the same
 * instant would each find no open one to replace, and all but one would fail on the unique index.
 */
export async function queueForAddress(db: Db, dialect: DialectName, email: string): Promise<void> {
  if (dialect !== 'postgres') return;
  const key = `jot.invitations:${storedEmailKey(email)}`;
  await limitLockWaits(db);
  await sql`SELECT pg_advisory_xact_lock(hashtextextended(${key}, 0))`.execute(db);
}

export async function createInvitation(db: Db, input: NewInvitation, now: number): Promise<Invitation> {
  const row = await db
    .insertInto('invitations')
    .values({
      id: randomUUID(),
      email: normalizeEmail(input.email),
      roles: JSON.stringify(input.roles),
      invited_by: input.invitedBy,
      created_at: now,
      expires_at: input.expiresAt,
      accepted_at: null,
      revoked_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toInvitation(row);
}

export async function getInvitation(db: Db, id: string): Promise<Invitation | undefined> {
  const row = await db.selectFrom('invitations').selectAll().where('id', '=', id).executeTakeFirst();
  return row && toInvitation(row);
}

/** Open invitations (not accepted, not revoked, not expired), newest first. */
export async function listOpenInvitations(db: Db, now: number, limit: number): Promise<Invitation[]> {
  const rows = await db
    .selectFrom('invitations')
    .selectAll()
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .orderBy('created_at', 'desc')
    .limit(limit)
    .execute();
  return rows.map(toInvitation);
}

/** Marks an open invitation accepted; of concurrent callers only one gets it back. */
export async function acceptInvitation(db: Db, id: string, now: number): Promise<Invitation | undefined> {
  const row = await db
    .updateTable('invitations')
    .set({ accepted_at: now })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', now)
    .returningAll()
    .executeTakeFirst();
  return row && toInvitation(row);
}

/** Revokes an invitation that was not accepted yet; undefined when there is none such. */
export async function revokeInvitation(db: Db, id: string, now: number): Promise<Invitation | undefined> {
  const row = await db
    .updateTable('invitations')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
  return row && toInvitation(row);
}

/** Revokes the address's open invitations (but `exceptId`): a newer one replaces them, an accepted one ends them. */
export async function revokeOpenInvitationsFor(
  db: Db,
  email: string,
  now: number,
  exceptId = '',
): Promise<void> {
  await db
    .updateTable('invitations')
    .set({ revoked_at: now })
    .where('email', '=', storedEmailKey(email))
    .where('id', '!=', exceptId)
    .where('accepted_at', 'is', null)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Deletes every invitation of an address (its account is being deleted); returns how many. */
export async function deleteInvitationsFor(db: Db, email: string): Promise<number> {
  const result = await db
    .deleteFrom('invitations')
    .where('email', '=', storedEmailKey(email))
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
