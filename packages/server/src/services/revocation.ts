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
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

import type { Counter } from 'prom-client';

import type { UserAccessTokenClaims, UserRevocationState } from '@jot/contract';
import { tokenRevoked } from '@jot/verify';

import type { Clock } from '../clock.js';
import type { Revocation, Session, Store, User } from '../store/index.js';

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
  /** Ends every session of a user and invalidates every token issued up to now (logout-everywhere). */
  revokeAllForUser(userId: string, reason: string, options?: { exceptSession?: string }): Promise<void>;
  /**
   * Every token issued to a client so far is revoked (the client was removed): a `user`-kind entry for the
   * client's id, which is the `sub` of its client-credentials tokens, with a cut-off of now. Client ids are never
   * shaped like user ids (UUIDs), so the entry cannot touch a user.
   */
  revokeClientTokens(clientId: string, maxTokenTtlMs: number): Promise<void>;
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

/** How long a revocation waits for its write-through copies before answering anyway. */
export const SINK_WAIT_MS = 250;

/** The user-state entry for the feed. */
export function userState(user: User): UserRevocationState {
  return {
    valid_after: Math.floor(user.tokensValidAfter / 1000),
    ver: user.tokenVersion,
    status: user.status === 'disabled' ? 'disabled' : 'active',
  };
}

/** Whether a session can still back tokens at `now` (not revoked, before its absolute expiry). */
function sessionLive(session: { revokedAt: number | null; absoluteExpiresAt: number }, now: number): boolean {
  return session.revokedAt === null && session.absoluteExpiresAt > now;
}

/**
 * Builds the revocation service. Entries live as long as a token they cover can still be presented: a `jti` entry
 * until that token's `exp` plus the clock tolerance; session and user entries for a whole access-token lifetime
 * plus the tolerance after the event.
 */
export function createRevocationService(
  store: Store,
  clock: Clock,
  lifetimes: { accessTokenTtlMs: number; clockToleranceMs: number },
  published?: Pick<Counter<'kind'>, 'inc'>,
): RevocationService {
  const coverMs = lifetimes.accessTokenTtlMs + lifetimes.clockToleranceMs;
  const changes = new EventEmitter<{ added: [Revocation]; remote: [] }>();
  const sinks = new Set<(entry: Revocation) => Promise<void>>();

  /** Appends a feed entry (through `tx` when it is part of a larger transaction). */
  function record(
    tx: Store,
    kind: Revocation['kind'],
    subject: string,
    data: Record<string, unknown>,
    expiresAt: number,
  ): Promise<Revocation> {
    return tx.addRevocation({ kind, subject, data, expiresAt });
  }

  /** After commit: wakes this server's streams and waits (bounded) for the write-through copies. */
  async function announce(entries: readonly Revocation[]): Promise<void> {
    for (const entry of entries) {
      published?.inc({ kind: entry.kind });
      changes.emit('added', entry);
    }
    if (sinks.size === 0 || entries.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled(entries.flatMap((entry) => [...sinks].map((sink) => sink(entry)))),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, SINK_WAIT_MS);
      }),
    ]);
    clearTimeout(timer);
  }

  /** Ends a session inside `tx`: the session row, its refresh tokens and its feed entry change together. */
  async function endSession(tx: Store, sessionId: string, reason: string): Promise<Revocation | undefined> {
    const changed = await tx.revokeSession(sessionId, reason);
    await tx.deleteRefreshTokensForSession(sessionId);
    // +1 s: token issuance may wait up to a second for the cut-off (`waitPastCutoff`).
    return changed ? record(tx, 'sid', sessionId, {}, clock() + coverMs + 1000) : undefined;
  }

  async function revokeSession(sessionId: string, reason: string): Promise<boolean> {
    const entry = await store.transaction((tx) => endSession(tx, sessionId, reason));
    if (entry !== undefined) await announce([entry]);
    return entry !== undefined;
  }

  async function publishUser(user: User): Promise<void> {
    await announce([await record(store, 'user', user.id, { ...userState(user) }, clock() + coverMs)]);
  }

  return {
    changes,
    addSink(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
    async check(claims) {
      const now = clock();
      const { jtiRevoked, user, session } = await store.authState(
        { jti: claims.jti, userId: claims.sub, sessionId: claims.sid },
        now,
      );
      // One refusal per reason, the same code and message a resource server's verifier gives (@jot/verify).
      if (jtiRevoked) throw tokenRevoked('jti');
      if (user === undefined) throw tokenRevoked('deleted');
      if (
        session === undefined ||
        session.userId !== user.id ||
        !sessionLive(session, now) ||
        session.credentialGeneration !== user.credentialGeneration
      ) {
        throw tokenRevoked('session');
      }
      if (user.status !== 'active') throw tokenRevoked('disabled');
      if (claims.iat <= Math.floor(user.tokensValidAfter / 1000)) throw tokenRevoked('cutoff');
      if (claims.ver !== user.tokenVersion) throw tokenRevoked('version');
      return { user, session };
    },
    async revokeToken(jti, exp) {
      await announce([await record(store, 'jti', jti, {}, exp * 1000 + lifetimes.clockToleranceMs)]);
    },
    revokeSession,
    async revokeClientTokens(clientId, maxTokenTtlMs) {
      const now = clock();
      const state: UserRevocationState = { valid_after: Math.floor(now / 1000), ver: 0, status: 'active' };
      const expiresAt = now + maxTokenTtlMs + lifetimes.clockToleranceMs + 1000;
      await announce([await record(store, 'user', clientId, { ...state }, expiresAt)]);
    },
    async revokeAllForUser(userId, reason, options = {}) {
      // One transaction: a lost connection leaves either all of it (cut-off, ended sessions, their entries and the
      // user entry) or none of it, never a cut-off that resource servers were not told about.
      const entries = await store.transaction(async (tx) => {
        const now = clock();
        // One UPDATE moves the cut-off (never backwards, even if another instance's clock is behind) and increments
        // the credential generation: a session created by a sign-in whose password check began before this is dead
        // at its first use, and the sign-in itself re-reads the generation after creating it (sessions.ts).
        const user = await tx.cutOffUser(userId, now, { keepSession: options.exceptSession });
        // Each ended session also gets its own `sid` entry: a refresh that was already past its checks when this
        // ran issues a token after the cut-off, which resource servers must still reject.
        const added: Revocation[] = [];
        for (const session of await tx.listSessionsForUser(userId, now)) {
          if (session.id === options.exceptSession) continue;
          const entry = await endSession(tx, session.id, reason);
          if (entry !== undefined) added.push(entry);
        }
        if (user) added.push(await record(tx, 'user', user.id, { ...userState(user) }, clock() + coverMs));
        return added;
      });
      await announce(entries);
    },
    async updateUser(change) {
      const result = await store.transaction(async (tx) => {
        const user = await change(tx);
        if (user === undefined) return undefined;
        const entry = await record(tx, 'user', user.id, { ...userState(user) }, clock() + coverMs);
        return { user, entry };
      });
      if (result === undefined) return undefined;
      await announce([result.entry]);
      return result.user;
    },
    publishUser,
    async waitPastCutoff(user) {
      const cutoffSecond = Math.floor(user.tokensValidAfter / 1000);
      const now = clock();
      if (Math.floor(now / 1000) > cutoffSecond) return false;
      await sleep((cutoffSecond + 1) * 1000 - now + 1);
      return true;
    },
    prune: () => store.pruneExpiredRevocations(),
  };
}
