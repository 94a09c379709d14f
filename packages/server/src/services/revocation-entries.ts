/**
 * Writing revocation-feed entries inside a transaction, each kept as long as a token it covers can still be
 * presented: a `jti` entry until that token's `exp` plus the clock tolerance; session and user entries for a whole
 * access-token lifetime plus the tolerance after the event. Announcing them after commit is `revocation-announcer.ts`.
 *
 * Entries come last in every transaction that writes them, after each row it changes: in PostgreSQL an entry takes
 * the feed's table lock until commit, and a row locked after it could deadlock with a transaction that holds that row
 * and waits for the table (a single logout).
 */
import type { UserRevocationState } from '@jot/contract';

import type { Clock } from '../clock.js';
import type { Revocation, Store, User } from '../store/index.js';

/** The user-state entry for the feed. */
export function userState(user: User): UserRevocationState {
  return {
    valid_after: Math.floor(user.tokensValidAfter / 1000),
    ver: user.tokenVersion,
    status: user.status === 'disabled' ? 'disabled' : 'active',
  };
}

/** What a cut-off of a user spares. */
export interface CutOffScope {
  /** The caller's own session, which goes on (a password change). */
  exceptSession?: string;
  /**
   * The device cut-off stays where it stood: device credentials and known devices outlive this cut-off. Only for a
   * cut-off the owner did not ask for — a `failure_burst` that others' failed sign-ins raise — where ending the
   * owner's device credential would hand the account to the attackers' lock.
   */
  keepDevices?: boolean;
}

/** The entry writers, each through the given transaction (or the store). */
export interface RevocationEntries {
  /** Appends a feed entry. */
  readonly record: (
    tx: Store,
    kind: Revocation['kind'],
    subject: string,
    data: Record<string, unknown>,
    expiresAt: number,
  ) => Promise<Revocation>;
  /** The user's current version and status. */
  readonly userEntry: (tx: Store, user: User) => Promise<Revocation>;
  /**
   * The entry of a deleted account: its last state with status `disabled`, so every token of it is refused
   * (whatever its `iat`) for a whole access-token lifetime from now.
   */
  readonly deletedUserEntry: (tx: Store, user: User) => Promise<Revocation>;
  /** Ends a session: the session row, its refresh tokens and its feed entry change together. */
  readonly endSession: (tx: Store, sessionId: string, reason: string) => Promise<Revocation | undefined>;
  /**
   * Cuts a user off now and ends their sessions (but `exceptSession`): the entries written; undefined, with nothing
   * written, when there is no such user (deleted, say) — the cut-off's UPDATE matched no row. The device cut-off
   * moves too, unless `keepDevices`.
   */
  readonly cutOffUser: (
    tx: Store,
    userId: string,
    reason: string,
    options: CutOffScope,
  ) => Promise<Revocation[] | undefined>;
}

/** The writers; `coverMs` is the access-token lifetime plus the clock tolerance. */
export function revocationEntries(clock: Clock, coverMs: number): RevocationEntries {
  const record: RevocationEntries['record'] = (tx, kind, subject, data, expiresAt) =>
    tx.addRevocation({ kind, subject, data, expiresAt });
  const userEntry: RevocationEntries['userEntry'] = (tx, user) =>
    record(tx, 'user', user.id, { ...userState(user) }, clock() + coverMs);

  /** Ends the session (its row and refresh tokens); whether it was live. Writes no entry. */
  async function closeSession(tx: Store, sessionId: string, reason: string): Promise<boolean> {
    const changed = await tx.revokeSession(sessionId, reason);
    await tx.deleteRefreshTokensForSession(sessionId);
    return changed;
  }

  // +1 s: token issuance may wait up to a second for the cut-off (`waitPastCutoff`).
  const sessionEntry = (tx: Store, sessionId: string): Promise<Revocation> =>
    record(tx, 'sid', sessionId, {}, clock() + coverMs + 1000);

  async function endSession(tx: Store, sessionId: string, reason: string): Promise<Revocation | undefined> {
    return (await closeSession(tx, sessionId, reason)) ? sessionEntry(tx, sessionId) : undefined;
  }

  return {
    record,
    userEntry,
    // +1 s: a sign-in whose session the delete cascaded away may still sign its token, after waiting up to a second
    // for the cut-off (`waitPastCutoff`).
    deletedUserEntry: (tx, user) =>
      record(tx, 'user', user.id, { ...userState(user), status: 'disabled' }, clock() + coverMs + 1000),
    endSession,
    cutOffUser: async (tx, userId, reason, options) => {
      const now = clock();
      // One UPDATE moves the cut-off (never backwards, even if another instance's clock is behind) and increments
      // the credential generation: a session created by a sign-in whose password check began before this is dead
      // at its first use, and the sign-in itself re-reads the generation after creating it (sessions/start.ts).
      const user = await tx.cutOffUser(userId, now, {
        keepSession: options.exceptSession,
        keepDevices: options.keepDevices,
      });
      // No row: the user is gone (their sessions went with them, by cascade). The UPDATE holds the row until commit
      // when there is one, so an account deletion racing this waits for it and never comes between.
      if (user === undefined) return undefined;
      // Every session ends before the first entry is written: an entry takes the feed's table lock (PostgreSQL) and
      // keeps it to commit, so a session row locked after it would deadlock with a single logout of that session,
      // which locks its row first. Entries always come last in a revocation transaction.
      const ended: string[] = [];
      for (const session of await tx.listSessionsForUser(userId, now)) {
        if (session.id === options.exceptSession) continue;
        if (await closeSession(tx, session.id, reason)) ended.push(session.id);
      }
      // Each ended session also gets its own `sid` entry: a refresh that was already past its checks when this
      // ran issues a token after the cut-off, which resource servers must still reject.
      const added: Revocation[] = [];
      for (const sessionId of ended) added.push(await sessionEntry(tx, sessionId));
      added.push(await userEntry(tx, user));
      return added;
    },
  };
}
