/**
 * The store's MFA and theft-signal operations (`store.mfa`), bound to the store's connection, clock and error
 * translation. Atomicity is stated per query in mfa-factors.ts, mfa-challenges.ts and sightings.ts.
 */
import type { MfaUserSummaryView } from '@jot/contract';
import type { Kysely } from 'kysely';

import * as challenges from './mfa-challenges.js';
import type { MfaChallenge, MfaChallengeKind, NewMfaChallenge } from './mfa-challenges.js';
import * as factors from './mfa-factors.js';
import type { MfaFactor, MfaFactorKind, NewMfaFactor } from './mfa-factors.js';
import type { Schema } from './schema.js';
import * as sightings from './sightings.js';
import type { SessionSighting } from './sightings.js';

/** Runs a query with the store's error translation. */
export type StoreRunner = <T>(op: (db: Kysely<Schema>) => Promise<T>) => Promise<T>;

/** MFA factors, recovery codes, challenges and theft-signal facts. */
export interface MfaStore {
  insertFactor(input: NewMfaFactor): Promise<MfaFactor>;
  /** The user's factors, pending ones included, oldest first. */
  listFactors(userId: string): Promise<MfaFactor[]>;
  getFactorByCredentialId(credentialId: string): Promise<MfaFactor | undefined>;
  /**
   * ATOMIC (the user's row locked): deletes the user's pending TOTP factor and inserts this one, pending; undefined
   * (nothing written) when the user has a confirmed TOTP factor.
   */
  replacePendingTotp(input: Omit<NewMfaFactor, 'kind' | 'confirmedAt'>): Promise<MfaFactor | undefined>;
  /**
   * Confirms a pending factor; whether this call confirmed it.
   * @throws {StoreError} `ERR_STORE_CONFLICT` for a TOTP factor when the user has a confirmed one (unique index).
   */
  confirmFactor(userId: string, id: string): Promise<boolean>;
  renameFactor(userId: string, id: string, name: string): Promise<boolean>;
  touchFactor(id: string, counter?: number): Promise<void>;
  deleteFactors(
    userId: string,
    which?: { id?: string; kind?: MfaFactorKind; pendingOnly?: boolean },
  ): Promise<number>;
  /** ATOMIC (primary key): false when the step was already used for this factor. */
  claimTotpStep(factorId: string, step: number): Promise<boolean>;
  replaceRecoveryCodes(userId: string, hashes: readonly string[]): Promise<void>;
  /**
   * ATOMIC (the user's row locked): stores the codes only while the user has a confirmed factor and no unused code;
   * true when stored.
   */
  addFirstRecoveryCodes(userId: string, hashes: readonly string[]): Promise<boolean>;
  /**
   * ATOMIC (the user's row locked): deletes one factor (`id`) or all, and the recovery codes when no confirmed factor
   * is left; returns how many factors went, or undefined (nothing removed) when there is no such user.
   */
  removeFactors(userId: string, which?: { id?: string }): Promise<number | undefined>;
  /** ATOMIC (conditional UPDATE): true for the one caller that used the code. */
  consumeRecoveryCode(userId: string, hash: string): Promise<boolean>;
  /** Gives back a used code (its use did not complete); a replaced or deleted code stays gone. */
  restoreRecoveryCode(userId: string, hash: string): Promise<void>;
  countRecoveryCodes(userId: string): Promise<number>;
  /** Per user with a confirmed factor: how many of each kind. */
  summary(): Promise<MfaUserSummaryView[]>;
  /** @throws {StoreError} `ERR_STORE_CONFLICT` for a duplicate id hash. */
  insertChallenge(input: NewMfaChallenge): Promise<void>;
  /** ATOMIC: counts an attempt on a live challenge below `maxAttempts`; undefined when none is left. */
  takeAttempt(idHash: string, kind: MfaChallengeKind, maxAttempts: number): Promise<MfaChallenge | undefined>;
  /** ATOMIC: consumes a live challenge; only one caller gets it. */
  consumeChallenge(idHash: string, kind: MfaChallengeKind): Promise<MfaChallenge | undefined>;
  pruneChallenges(): Promise<number>;
  /** ATOMIC upsert: the account's attempts in the current window, this one included, and when it began. */
  countAccountAttempt(userId: string, windowMs: number): Promise<{ count: number; windowStart: number }>;
  refundAccountAttempt(userId: string): Promise<void>;
  /**
   * ATOMIC (primary key): claims the device for the user at `at` (default now); true when it was new — never seen,
   * or claimed last at or before the user's device cut-off (`User.devicesValidAfter`).
   */
  rememberDevice(userId: string, deviceHash: string, at?: number): Promise<boolean>;
  countDevices(userId: string): Promise<number>;
  /** Records where a session is used (on a refresh, the previous sighting came with the refresh's own read). */
  recordSighting(sessionId: string, sighting: Omit<SessionSighting, 'seenAt'>): Promise<void>;
  countUserEventsSince(userId: string, types: readonly string[], since: number): Promise<number>;
}

/** Binds the queries to a runner and a clock. */
export function createMfaStore(run: StoreRunner, clock: () => number): MfaStore {
  return {
    insertFactor: (input) => run((db) => factors.insertFactor(db, input, clock())),
    listFactors: (userId) => run((db) => factors.listFactors(db, userId)),
    getFactorByCredentialId: (id) => run((db) => factors.getFactorByCredentialId(db, id)),
    replacePendingTotp: (input) => run((db) => factors.replacePendingTotp(db, input, clock())),
    confirmFactor: (userId, id) => run((db) => factors.confirmFactor(db, userId, id, clock())),
    renameFactor: (userId, id, name) => run((db) => factors.renameFactor(db, userId, id, name)),
    touchFactor: (id, counter) => run((db) => factors.touchFactor(db, id, clock(), counter)),
    deleteFactors: (userId, which) => run((db) => factors.deleteFactors(db, userId, which)),
    claimTotpStep: (factorId, step) => run((db) => factors.claimTotpStep(db, factorId, step, clock())),
    replaceRecoveryCodes: (userId, hashes) =>
      run((db) => factors.replaceRecoveryCodes(db, userId, hashes, clock())),
    addFirstRecoveryCodes: (userId, hashes) =>
      run((db) => factors.addFirstRecoveryCodes(db, userId, hashes, clock())),
    removeFactors: (userId, which) => run((db) => factors.removeFactors(db, userId, which)),
    consumeRecoveryCode: (userId, hash) =>
      run((db) => factors.consumeRecoveryCode(db, userId, hash, clock())),
    restoreRecoveryCode: (userId, hash) => run((db) => factors.restoreRecoveryCode(db, userId, hash)),
    countRecoveryCodes: (userId) => run((db) => factors.countRecoveryCodes(db, userId)),
    summary: () => run((db) => factors.factorSummary(db)),
    insertChallenge: (input) => run((db) => challenges.insertChallenge(db, input, clock())),
    takeAttempt: (idHash, kind, max) => run((db) => challenges.takeAttempt(db, idHash, kind, max, clock())),
    consumeChallenge: (idHash, kind) => run((db) => challenges.consumeChallenge(db, idHash, kind, clock())),
    pruneChallenges: () => run((db) => challenges.pruneChallenges(db, clock())),
    countAccountAttempt: (userId, windowMs) =>
      run((db) => challenges.countAccountAttempt(db, userId, windowMs, clock())),
    refundAccountAttempt: (userId) => run((db) => challenges.refundAccountAttempt(db, userId)),
    rememberDevice: (userId, hash, at) =>
      run((db) => sightings.rememberDevice(db, userId, hash, at ?? clock())),
    countDevices: (userId) => run((db) => sightings.countDevices(db, userId)),
    recordSighting: (sessionId, sighting) =>
      run((db) => sightings.recordSighting(db, sessionId, { ...sighting, seenAt: clock() })),
    countUserEventsSince: (userId, types, since) =>
      run((db) => sightings.countUserEventsSince(db, userId, types, since)),
  };
}
