/**
 * Queries on `mfa_factors`, `mfa_used_steps` and `mfa_recovery_codes`. Every single-use check is one statement:
 * a TOTP step is claimed by a primary-key INSERT, a recovery code by a conditional UPDATE … RETURNING.
 */
import type { Kysely, Selectable } from 'kysely';

import { parseStringArray } from './json.js';
import type { MfaFactorsTable, Schema } from './schema.js';
import { inTransaction } from './transaction.js';

/** The kind of a second factor. */
export type MfaFactorKind = 'totp' | 'webauthn';

/** A second factor as callers see it (secrets stay sealed). */
export interface MfaFactor {
  id: string;
  userId: string;
  kind: MfaFactorKind;
  name: string;
  /** TOTP: the sealed secret. */
  secretCiphertext: string | null;
  /** WebAuthn: credential id (base64url). */
  credentialId: string | null;
  /** WebAuthn: COSE public key (base64url). */
  publicKey: string | null;
  counter: number;
  transports: string[];
  createdAt: number;
  /** Null while pending (a TOTP enrolment not yet confirmed with a code). */
  confirmedAt: number | null;
  lastUsedAt: number | null;
}

/** Input of `insertFactor`. */
export interface NewMfaFactor {
  id: string;
  userId: string;
  kind: MfaFactorKind;
  name: string;
  secretCiphertext?: string | null;
  credentialId?: string | null;
  publicKey?: string | null;
  counter?: number;
  transports?: readonly string[];
  /** Set for factors confirmed on creation (passkeys). */
  confirmedAt?: number | null;
}

type Db = Kysely<Schema>;

function toFactor(row: Selectable<MfaFactorsTable>): MfaFactor {
  return {
    id: row.id,
    userId: row.user_id,
    kind: row.kind === 'webauthn' ? 'webauthn' : 'totp',
    name: row.name,
    secretCiphertext: row.secret_ciphertext,
    credentialId: row.credential_id,
    publicKey: row.public_key,
    counter: row.counter,
    transports: parseStringArray(row.transports),
    createdAt: row.created_at,
    confirmedAt: row.confirmed_at,
    lastUsedAt: row.last_used_at,
  };
}

export async function insertFactor(db: Db, input: NewMfaFactor, now: number): Promise<MfaFactor> {
  const row = await db
    .insertInto('mfa_factors')
    .values({
      id: input.id,
      user_id: input.userId,
      kind: input.kind,
      name: input.name,
      secret_ciphertext: input.secretCiphertext ?? null,
      credential_id: input.credentialId ?? null,
      public_key: input.publicKey ?? null,
      counter: input.counter ?? 0,
      transports: JSON.stringify(input.transports ?? []),
      created_at: now,
      confirmed_at: input.confirmedAt ?? null,
      last_used_at: null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toFactor(row);
}

export async function listFactors(db: Db, userId: string): Promise<MfaFactor[]> {
  const rows = await db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('user_id', '=', userId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toFactor);
}

export async function getFactorByCredentialId(db: Db, credentialId: string): Promise<MfaFactor | undefined> {
  const row = await db
    .selectFrom('mfa_factors')
    .selectAll()
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return row && toFactor(row);
}

/**
 * Confirms a pending factor; whether this call confirmed it.
 * @throws {StoreError} `ERR_STORE_CONFLICT` (translated by the store) for a TOTP factor of a user who has a confirmed
 * one already: migration 0013's unique index, whichever instance confirmed it.
 */
export async function confirmFactor(db: Db, userId: string, id: string, now: number): Promise<boolean> {
  const result = await db
    .updateTable('mfa_factors')
    .set({ confirmed_at: now, last_used_at: now })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .where('confirmed_at', 'is', null)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Renames a factor of the user; whether it existed. */
export async function renameFactor(db: Db, userId: string, id: string, name: string): Promise<boolean> {
  const result = await db
    .updateTable('mfa_factors')
    .set({ name })
    .where('id', '=', id)
    .where('user_id', '=', userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** Records a use (and, for WebAuthn, the new signature counter). */
export async function touchFactor(db: Db, id: string, now: number, counter?: number): Promise<void> {
  await db
    .updateTable('mfa_factors')
    .set({ last_used_at: now, ...(counter === undefined ? {} : { counter }) })
    .where('id', '=', id)
    .execute();
}

/** Deletes factors of a user: one by id, all of a kind, or (neither given) every one; returns how many. */
export async function deleteFactors(
  db: Db,
  userId: string,
  which: { id?: string; kind?: MfaFactorKind; pendingOnly?: boolean } = {},
): Promise<number> {
  let q = db.deleteFrom('mfa_factors').where('user_id', '=', userId);
  if (which.id !== undefined) q = q.where('id', '=', which.id);
  if (which.kind !== undefined) q = q.where('kind', '=', which.kind);
  if (which.pendingOnly) q = q.where('confirmed_at', 'is', null);
  const result = await q.executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** Claims a TOTP time step for a factor; false when it was claimed before (a replayed code). */
export async function claimTotpStep(db: Db, factorId: string, step: number, now: number): Promise<boolean> {
  const result = await db
    .insertInto('mfa_used_steps')
    .values({ factor_id: factorId, step, used_at: now })
    .onConflict((oc) => oc.columns(['factor_id', 'step']).doNothing())
    .executeTakeFirst();
  await db
    .deleteFrom('mfa_used_steps')
    .where('factor_id', '=', factorId)
    .where('step', '<', step - 10)
    .execute();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

/**
 * Runs `write` in one transaction that first locks the user's row (a no-op UPDATE: a row lock on PostgreSQL, the
 * write lock on SQLite), so two writers of one user's recovery codes (or TOTP enrolment) take turns. `found` says
 * whether the UPDATE matched the row: false when there is no such user (deleted, say — and while the row is held
 * no deletion can come between).
 */
function withUserLocked<T>(
  db: Db,
  userId: string,
  write: (tx: Db, found: boolean) => Promise<T>,
): Promise<T> {
  return inTransaction(db, async (tx) => {
    const locked = await tx
      .updateTable('users')
      .set((eb) => ({ updated_at: eb.ref('updated_at') }))
      .where('id', '=', userId)
      .executeTakeFirst();
    return write(tx, locked.numUpdatedRows > 0n);
  });
}

/** Deletes the user's recovery codes and inserts `hashes` (inside a transaction holding the user's row). */
async function writeRecoveryCodes(
  tx: Db,
  userId: string,
  hashes: readonly string[],
  now: number,
): Promise<void> {
  await deleteRecoveryCodes(tx, userId);
  if (hashes.length > 0) {
    await tx
      .insertInto('mfa_recovery_codes')
      .values(hashes.map((h) => ({ code_hash: h, user_id: userId, created_at: now, used_at: null })))
      .execute();
  }
}

/**
 * Replaces the user's recovery codes with new ones (by hash), the user's row locked first. Without the lock two
 * replacements at once, on PostgreSQL's READ COMMITTED, each deleted only the rows it saw and both sets stayed live
 * (20 codes); now the later one deletes the earlier one's set.
 */
export async function replaceRecoveryCodes(
  db: Db,
  userId: string,
  hashes: readonly string[],
  now: number,
): Promise<void> {
  await withUserLocked(db, userId, (tx) => writeRecoveryCodes(tx, userId, hashes, now));
}

/** Whether the user has a confirmed factor (of `kind`, when given). */
async function hasConfirmedFactor(db: Db, userId: string, kind?: MfaFactorKind): Promise<boolean> {
  let q = db.selectFrom('mfa_factors').select('id').where('user_id', '=', userId);
  if (kind !== undefined) q = q.where('kind', '=', kind);
  const row = await q.where('confirmed_at', 'is not', null).limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Starts a TOTP enrolment: deletes the user's pending TOTP factor and inserts `input` as the new pending one, in one
 * transaction that locks the user's row first; undefined (nothing written) when the user has a confirmed TOTP
 * factor. Without the lock, starts on several instances at once each deleted the pending factor before any of them
 * inserted, and every one's factor stayed pending — and could be confirmed: several authenticator apps on one
 * account. Now they take turns and each replaces the previous one (migration 0013 also allows one pending factor).
 */
export async function replacePendingTotp(
  db: Db,
  input: Omit<NewMfaFactor, 'kind' | 'confirmedAt'>,
  now: number,
): Promise<MfaFactor | undefined> {
  return withUserLocked(db, input.userId, async (tx) => {
    if (await hasConfirmedFactor(tx, input.userId, 'totp')) return undefined;
    await deleteFactors(tx, input.userId, { kind: 'totp', pendingOnly: true });
    return insertFactor(tx, { ...input, kind: 'totp', confirmedAt: null }, now);
  });
}

/**
 * Stores `hashes` as the user's recovery codes only while the user has a confirmed factor and no unused code, the
 * user's row locked first; true when written. Two first factors added at once (a TOTP confirmation and a passkey)
 * each offer codes: one set is stored and shown, the other neither, so no one is shown codes that do not work; and a
 * factor removed (or an admin's reset) just before stores none, so no codes outlive every factor.
 */
export async function addFirstRecoveryCodes(
  db: Db,
  userId: string,
  hashes: readonly string[],
  now: number,
): Promise<boolean> {
  return withUserLocked(db, userId, async (tx) => {
    if (!(await hasConfirmedFactor(tx, userId)) || (await countRecoveryCodes(tx, userId)) > 0) return false;
    await writeRecoveryCodes(tx, userId, hashes, now);
    return true;
  });
}

/**
 * Deletes factors of the user (as {@link deleteFactors}) and, when no confirmed factor is left, the recovery codes,
 * the user's row locked first (so a first factor's codes added at the same moment are either removed with the last
 * factor or belong to a factor that stays); returns how many factors went, or undefined when there is no such user.
 */
export async function removeFactors(
  db: Db,
  userId: string,
  which: { id?: string } = {},
): Promise<number | undefined> {
  return withUserLocked(db, userId, async (tx, found) => {
    if (!found) return undefined;
    const removed = await deleteFactors(tx, userId, which);
    if (!(await hasConfirmedFactor(tx, userId))) {
      await deleteRecoveryCodes(tx, userId);
    }
    return removed;
  });
}

/** Uses a recovery code: a conditional UPDATE, so each code works once, whoever races. */
export async function consumeRecoveryCode(
  db: Db,
  userId: string,
  hash: string,
  now: number,
): Promise<boolean> {
  const row = await db
    .updateTable('mfa_recovery_codes')
    .set({ used_at: now })
    .where('code_hash', '=', hash)
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .returning('code_hash')
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Gives back a code `consumeRecoveryCode` used, when what it was spent on did not happen (the MFA token it came with
 * was used meanwhile by a concurrent request). A code replaced or deleted since is not brought back.
 */
export async function restoreRecoveryCode(db: Db, userId: string, hash: string): Promise<void> {
  await db
    .updateTable('mfa_recovery_codes')
    .set({ used_at: null })
    .where('code_hash', '=', hash)
    .where('user_id', '=', userId)
    .execute();
}

/** How many unused recovery codes the user has left. */
export async function countRecoveryCodes(db: Db, userId: string): Promise<number> {
  const row = await db
    .selectFrom('mfa_recovery_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('user_id', '=', userId)
    .where('used_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Deletes every recovery code of the user. */
export async function deleteRecoveryCodes(db: Db, userId: string): Promise<void> {
  await db.deleteFrom('mfa_recovery_codes').where('user_id', '=', userId).execute();
}

/** Per user with a confirmed factor: how many of each kind. */
export async function factorSummary(db: Db): Promise<{ user_id: string; totp: number; webauthn: number }[]> {
  const rows = await db
    .selectFrom('mfa_factors')
    .select(['user_id', 'kind', (eb) => eb.fn.countAll<number | string>().as('n')])
    .where('confirmed_at', 'is not', null)
    .groupBy(['user_id', 'kind'])
    .orderBy('user_id')
    .execute();
  const byUser = new Map<string, { user_id: string; totp: number; webauthn: number }>();
  for (const row of rows) {
    const entry = byUser.get(row.user_id) ?? { user_id: row.user_id, totp: 0, webauthn: 0 };
    if (row.kind === 'totp' || row.kind === 'webauthn') entry[row.kind] = Number(row.n);
    byUser.set(row.user_id, entry);
  }
  return [...byUser.values()];
}
