/**
 * Revocation, all of it: per token (`jti`), per session (`sid`), per user (a "valid after" cut-off, the token
 * version, the account status). The server checks every kind on each request; resource servers replicate the
 * same facts from the feed. Every feed entry expires when the longest-lived access token it covers has expired,
 * so the list stays small.
 *
 * The cut-off is kept in whole seconds because `iat` is: a token is valid only when `iat > valid_after`. Tokens
 * for the user are not issued within the cut-off's own second (`waitPastCutoff`), so a fresh login right after a
 * logout-everywhere is never caught by it.
 */
import type { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Counter } from 'prom-client';

import {
  FEED_RETENTION_SLACK_SECONDS,
  type UserAccessTokenClaims,
  type UserRevocationState,
} from '@jot/contract';

import type { Clock } from '../clock.js';
import type { Revocation, Session, Store, User } from '../store/index.js';
import { createRevocationAnnouncer } from './revocation-announcer.js';
import { checkRevocation } from './revocation-check.js';
import { revocationEntries, type CutOffScope, type RevocationEntries } from './revocation-entries.js';

/** The `ERR_TOKEN_REVOKED` answer for `reason`, as `@jot/verify` words it. */
/** The revocation service. */
export interface RevocationService {
  /**
   * Throws `@jot/verify`'s `VerifyError` (the refusal every resource server gives) if any revocation applies to these (already verified) claims; otherwise resolves to the
   * user and session as this check read them (one database statement), so the request need not read them again.
   */
  check(claims: UserAccessTokenClaims): Promise<{ user: User; session: Session }>;
  /** Revokes one access token until it expires. */
  revokeToken(jti: string, exp: number): Promise<void>;
  /** Ends a session: its refresh tokens stop working and its access tokens are rejected. Idempotent. */
  revokeSession(sessionId: string, reason: string): Promise<boolean>;
  /**
   * Ends every session of a user and invalidates every token issued up to now (logout-everywhere); resolves to how
   * many sessions were live and ended, or undefined — nothing written, nothing announced — when there is no such
   * user. The cut-off's UPDATE is what finds the user, in the same transaction, so a user deleted after any earlier
   * read of theirs is answered as unknown, and a deletion that comes later waits for this to commit. The account's
   * device cut-off moves too (its device credentials die, its known devices count as new) unless `keepDevices`.
   */
  revokeAllForUser(userId: string, reason: string, options?: CutOffScope): Promise<number | undefined>;
  /**
   * Runs `change` (a new password hash, say) and, unless it answers undefined (nothing changed: nothing is revoked
   * either), what `revokeAllForUser` does, in ONE transaction; the entries are announced after commit. A failure
   * leaves neither the change without the cut-off nor the cut-off without the change. Returns what `change` did.
   */
  changeAndRevokeAll<T>(
    userId: string,
    reason: string,
    change: (tx: Store) => Promise<T | undefined>,
    options?: CutOffScope,
  ): Promise<T | undefined>;
  /**
   * Every token issued to a client so far is revoked (the client was removed): a `user`-kind entry for the
   * client's id, which is the `sub` of its client-credentials tokens, with a cut-off of now. Client ids are never
   * shaped like user ids (UUIDs), so the entry cannot touch a user.
   */
  revokeClientTokens(clientId: string, maxTokenTtlMs: number): Promise<void>;
  /**
   * Deletes the user (`Store.deleteUser`) and, in the same transaction, writes a `user` entry with status
   * `disabled` that lasts a whole access-token lifetime, then announces it: resource servers refuse every token of
   * the account — also one from a sign-in that completed after the last cut-off, whose session the delete removed
   * without a `sid` entry. Returns what the store returned.
   */
  deleteUser(userId: string): Promise<User | undefined | 'last_admin'>;
  /** Publishes the user's current version and status (after a role change, disable or enable). */
  publishUser(user: User): Promise<void>;
  /**
   * Changes a user (roles, status) and publishes the new state in one transaction, so resource servers are told
   * of every change that took effect. Returns the changed user, or undefined (and publishes nothing) if none.
   */
  updateUser(change: (tx: Store) => Promise<User | undefined>): Promise<User | undefined>;
  /** Waits until tokens issued now are past the user's cut-off second; whether it had to wait. */
  waitPastCutoff(user: User): Promise<boolean>;
  /** Drops expired entries; returns how many. */
  prune(): Promise<number>;
  /**
   * `added` fires when this server added an entry; `remote` when another instance did (or may have: the cluster
   * listener reconnected), so streams read the feed again at once.
   */
  readonly changes: EventEmitter<{ added: [Revocation]; remote: [] }>;
  /**
   * Registers a write-through copy (Redis): every new entry is handed to it, and the request that revoked waits
   * for it, up to `SINK_WAIT_MS`, so a logout is in the copy before the client hears it succeeded.
   */
  addSink(sink: (entry: Revocation) => Promise<void>): () => void;
}

export { SINK_WAIT_MS } from './revocation-announcer.js';
export { userState } from './revocation-entries.js';

/**
 * Builds the revocation service. Entries live as long as a token they cover can still be presented: a `jti` entry
 * until that token's `exp` plus the clock tolerance; session and user entries for a whole access-token lifetime
 * plus the tolerance after the event — the tolerance being the server's plus `FEED_RETENTION_SLACK_SECONDS`, which
 * a verifier's `clockTolerance` may use.
 */
export function createRevocationService(
  store: Store,
  clock: Clock,
  lifetimes: { accessTokenTtlMs: number; clockToleranceMs: number },
  published?: Pick<Counter<'kind'>, 'inc'>,
): RevocationService {
  // Kept past what this server's tolerance needs by the slack, so verifiers with a larger one find them too.
  const toleranceMs = lifetimes.clockToleranceMs + FEED_RETENTION_SLACK_SECONDS * 1000;
  const coverMs = lifetimes.accessTokenTtlMs + toleranceMs;
  const { changes, addSink, announce } = createRevocationAnnouncer(published);
  const entries = revocationEntries(clock, coverMs);
  const { record, userEntry, endSession } = entries;

  async function revokeSession(sessionId: string, reason: string): Promise<boolean> {
    const entry = await store.transaction((tx) => endSession(tx, sessionId, reason));
    if (entry !== undefined) await announce([entry]);
    return entry !== undefined;
  }

  async function publishUser(user: User): Promise<void> {
    await announce([await userEntry(store, user)]);
  }

  return {
    changes,
    addSink,
    check: (claims) => checkRevocation(store, claims, clock()),
    async revokeToken(jti, exp) {
      await announce([await record(store, 'jti', jti, {}, exp * 1000 + toleranceMs)]);
    },
    revokeSession,
    async revokeClientTokens(clientId, maxTokenTtlMs) {
      const now = clock();
      const state: UserRevocationState = { valid_after: Math.floor(now / 1000), ver: 0, status: 'active' };
      const expiresAt = now + maxTokenTtlMs + toleranceMs + 1000;
      await announce([await record(store, 'user', clientId, { ...state }, expiresAt)]);
    },
    // One transaction: a lost connection leaves either all of it (cut-off, ended sessions, their entries and the
    // user entry) or none of it, never a cut-off that resource servers were not told about.
    async revokeAllForUser(userId, reason, options = {}) {
      const cutOff = { userId, reason, options };
      const result = await changeAndRevokeAll(store, entries, announce, cutOff, async () => true);
      if (result === undefined || !result.found) return undefined;
      // Each ended session has its own `sid` entry.
      return result.added.filter((entry) => entry.kind === 'sid').length;
    },
    changeAndRevokeAll: async (userId, reason, change, options = {}) =>
      (await changeAndRevokeAll(store, entries, announce, { userId, reason, options }, change))?.changed,
    async updateUser(change) {
      const result = await store.transaction(async (tx) => {
        const user = await change(tx);
        if (user === undefined) return undefined;
        return { user, entry: await userEntry(tx, user) };
      });
      if (result === undefined) return undefined;
      await announce([result.entry]);
      return result.user;
    },
    publishUser,
    deleteUser: (userId) => deleteUser(store, entries, announce, userId),
    waitPastCutoff: (user) => waitPastCutoff(user, clock),
    prune: () => store.pruneExpiredRevocations(),
  };
}

/** {@link RevocationService.deleteUser}: the delete and the deleted account's entry commit together. */
async function deleteUser(
  store: Store,
  entries: RevocationEntries,
  announce: (added: readonly Revocation[]) => Promise<void>,
  userId: string,
): Promise<User | undefined | 'last_admin'> {
  const added: Revocation[] = [];
  const deleted = await store.deleteUser(userId, async (tx, user) => {
    added.push(await entries.deletedUserEntry(tx, user));
  });
  await announce(added);
  return deleted;
}

/**
 * {@link RevocationService.changeAndRevokeAll}: the change, the cut-off and its entries commit together. Resolves to
 * what `change` did, the entries announced and whether the cut-off found the user, or undefined when `change`
 * changed nothing.
 */
async function changeAndRevokeAll<T>(
  store: Store,
  entries: RevocationEntries,
  announce: (added: readonly Revocation[]) => Promise<void>,
  cutOff: { userId: string; reason: string; options: CutOffScope },
  change: (tx: Store) => Promise<T | undefined>,
): Promise<{ changed: T; added: Revocation[]; found: boolean } | undefined> {
  const result = await store.transaction(async (tx) => {
    const changed = await change(tx);
    if (changed === undefined) return undefined;
    const added = await entries.cutOffUser(tx, cutOff.userId, cutOff.reason, cutOff.options);
    return { changed, added: added ?? [], found: added !== undefined };
  });
  if (result === undefined) return undefined;
  await announce(result.added);
  return result;
}

/** Waits until tokens issued now are past the user's cut-off second; whether it had to wait. */
async function waitPastCutoff(user: User, clock: Clock): Promise<boolean> {
  const cutoffSecond = Math.floor(user.tokensValidAfter / 1000);
  const now = clock();
  if (Math.floor(now / 1000) > cutoffSecond) return false;
  await sleep((cutoffSecond + 1) * 1000 - now + 1);
  return true;
}
