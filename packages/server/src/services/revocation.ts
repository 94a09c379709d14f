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

import type { AccessTokenClaims, Clock } from '../context.js';
import { unauthorized } from '../http/errors.js';
import type { Revocation, Store, User } from '../store/index.js';

/** Per-user revocation state as published in `user` feed entries (times in epoch seconds). */
export interface UserRevocationState {
  /** Tokens need `iat > valid_after`; 0 = no cut-off. */
  valid_after: number;
  /** Tokens need `ver >= ver`. */
  ver: number;
  status: 'active' | 'disabled';
}

/** The revocation service. */
export interface RevocationService {
  /** Throws a 401 `HttpError` if any revocation applies to these (already verified) claims. */
  check(claims: AccessTokenClaims): Promise<void>;
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
  /** Waits until tokens issued now are past the user's cut-off second. */
  waitPastCutoff(user: User): Promise<void>;
  /** Drops expired entries; returns how many. */
  prune(): Promise<number>;
  /** Fires when an entry was added by this server (other instances are seen by polling). */
  readonly changes: EventEmitter<{ added: [Revocation] }>;
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
): RevocationService {
  const coverMs = lifetimes.accessTokenTtlMs + lifetimes.clockToleranceMs;
  const changes = new EventEmitter<{ added: [Revocation] }>();
  const sinks = new Set<(entry: Revocation) => Promise<void>>();

  async function add(
    kind: Revocation['kind'],
    subject: string,
    data: Record<string, unknown>,
    expiresAt: number,
  ) {
    const entry = await store.addRevocation({ kind, subject, data: data, expiresAt });
    changes.emit('added', entry);
    if (sinks.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        Promise.allSettled([...sinks].map((sink) => sink(entry))),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, SINK_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
    }
  }

  async function revokeSession(sessionId: string, reason: string): Promise<boolean> {
    const changed = await store.revokeSession(sessionId, reason);
    await store.deleteRefreshTokensForSession(sessionId);
    // +1 s: token issuance may wait up to a second for the cut-off (`waitPastCutoff`).
    if (changed) await add('sid', sessionId, {}, clock() + coverMs + 1000);
    return changed;
  }

  async function publishUser(user: User): Promise<void> {
    await add('user', user.id, { ...userState(user) }, clock() + coverMs);
  }

  return {
    changes,
    addSink(sink) {
      sinks.add(sink);
      return () => sinks.delete(sink);
    },
    async check(claims) {
      const now = clock();
      const [jtiRevoked, user, session] = await Promise.all([
        store.isJtiRevoked(claims.jti, now),
        store.getUserById(claims.sub),
        store.getSession(claims.sid),
      ]);
      if (jtiRevoked) throw unauthorized('ERR_TOKEN_REVOKED', 'this access token has been revoked');
      if (user === undefined) throw unauthorized('ERR_TOKEN_REVOKED', 'the account no longer exists');
      if (user.status !== 'active') throw unauthorized('ERR_USER_DISABLED', 'this account is disabled');
      if (claims.ver !== user.tokenVersion) {
        throw unauthorized(
          'ERR_TOKEN_REVOKED',
          'the account changed (roles or status); refresh the access token',
        );
      }
      if (claims.iat <= Math.floor(user.tokensValidAfter / 1000)) {
        throw unauthorized('ERR_TOKEN_REVOKED', 'the account was signed out everywhere; sign in again');
      }
      if (session === undefined || session.userId !== user.id || !sessionLive(session, now)) {
        throw unauthorized('ERR_SESSION_ENDED', 'the session has ended; sign in again');
      }
    },
    async revokeToken(jti, exp) {
      await add('jti', jti, {}, exp * 1000 + lifetimes.clockToleranceMs);
    },
    revokeSession,
    async revokeClientTokens(clientId, maxTokenTtlMs) {
      const now = clock();
      const state: UserRevocationState = { valid_after: Math.floor(now / 1000), ver: 0, status: 'active' };
      await add('user', clientId, { ...state }, now + maxTokenTtlMs + lifetimes.clockToleranceMs + 1000);
    },
    async revokeAllForUser(userId, reason, options = {}) {
      const now = clock();
      const current = await store.getUserById(userId);
      // The cut-off never moves backwards, even if another instance's clock is behind.
      const user = await store.setTokensValidAfter(userId, Math.max(now, current?.tokensValidAfter ?? 0));
      // Each ended session also gets its own `sid` entry: a refresh that was already past its checks when this ran
      // issues a token after the cut-off, which resource servers must still reject.
      for (const session of await store.listSessionsForUser(userId, now)) {
        if (session.id !== options.exceptSession) await revokeSession(session.id, reason);
      }
      if (user) await publishUser(user);
    },
    publishUser,
    async waitPastCutoff(user) {
      const cutoffSecond = Math.floor(user.tokensValidAfter / 1000);
      const now = clock();
      if (Math.floor(now / 1000) <= cutoffSecond) await sleep((cutoffSecond + 1) * 1000 - now + 1);
    },
    prune: () => store.pruneExpiredRevocations(),
  };
}
