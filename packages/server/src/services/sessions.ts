/**
 * Sessions and their tokens: sign-in, refresh-token rotation with reuse detection and a grace window,
 * single-token renewal, and the token pair every flow returns.
 *
 * Rotation (RFC 9700 §4.14.2): each refresh token is used once. A second use of a rotated token is reuse — a sign
 * that it was stolen — and ends the whole session, except for one case: the *immediately previous* token presented
 * again within `graceMs` of its rotation (two tabs refreshing at once) receives the same successor, decrypted from
 * the rotated row with a key only that token yields. The token two generations back, or the previous one after the
 * window (`elapsed >= graceMs`), is reuse.
 */
import { randomUUID } from 'node:crypto';

import type { ServerErrorCode, UserAccessTokenClaims } from '@jot/contract';

import type { Clock } from '../clock.js';
import type { RefreshToken, Session, SessionDelivery, Store, TokenRenewal, User } from '../store/index.js';
import { csrfRefusal, type CsrfTokens } from './csrf.js';
import type { RevocationService } from './revocation.js';
import { scopeText, type ScopePolicy } from './scopes.js';
import {
  hashForClaim,
  hashSecret,
  newSecret,
  openRenewal,
  openSuccessor,
  sealRenewal,
  sealSuccessor,
} from './secrets.js';
import type { SecurityEvents } from './security-events.js';
import type { TokenService } from './tokens.js';
import { DomainError } from './errors.js';

/** What a successful sign-in, refresh or renewal returns. */
export interface TokenPair {
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  /** Absent in single-token mode. */
  refreshToken?: string;
  /** The session's anti-CSRF token, when the session was made for cookie delivery. */
  csrfToken?: string;
  claims: UserAccessTokenClaims;
  session: Session;
}

/** Request facts stored with a session. */
export interface ClientInfo {
  ip?: string | null;
  userAgent?: string | null;
}

/** Session settings. */
export interface SessionSettings {
  mode: 'refresh' | 'single';
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  graceMs: number;
  clockToleranceMs: number;
}

/** The session service. */
export interface SessionService {
  /**
   * Starts a session for an authenticated user. `user` must be the record read BEFORE the credential check: the
   * session records its `credentialGeneration`, and once the session row exists the user is read again — if a
   * password change, logout-everywhere or disable committed meanwhile, the session is revoked and the sign-in fails
   * with 401 `ERR_CREDENTIALS_CHANGED`. Browser deliveries (`cookie`, `memory`) get an anti-CSRF token whose hash is
   * bound into every access token of the session.
   */
  start(
    user: User,
    client: ClientInfo,
    options?: {
      delivery?: SessionDelivery;
      amr?: readonly string[];
      acr?: string;
      dpopJkt?: string;
    },
  ): Promise<TokenPair>;
  /**
   * Exchanges a refresh token for a new pair (rotation, reuse detection, grace window). `fromCookie` carries the
   * `X-Csrf-Token` header when the refresh token came from a cookie: it must be the session's CSRF token.
   */
  refresh(
    refreshToken: string,
    client: ClientInfo,
    fromCookie?: { csrfHeader: string | undefined },
    options?: RefreshOptions,
  ): Promise<TokenPair>;
  /**
   * Single-token mode: a still-valid access token (signature and claims verified, revocation not yet checked) for
   * a fresh one. Each token is renewed once, atomically across instances; a repeat within the grace window gets
   * the same successor, a repeat after it (or of a token whose successor was renewed in turn) is reuse: the session
   * ends with 401 `ERR_TOKEN_ALREADY_RENEWED`. The renewed token is revoked only when {@link renewalRevokes}.
   */
  renew(presented: { claims: UserAccessTokenClaims; token: string }, client?: ClientInfo): Promise<TokenPair>;
  /**
   * New tokens for an existing live session (after a password change or re-authentication); `rotateRefreshToken`
   * also replaces the session's refresh token.
   */
  reissue(
    sessionId: string,
    options?: { authTime?: number; amr?: readonly string[]; acr?: string; rotateRefreshToken?: boolean },
  ): Promise<TokenPair>;
}

/** Options of a refresh through the OAuth token endpoint. */
export interface RefreshOptions {
  /** The authenticated client: the session must belong to it (RFC 6749 §6). */
  clientId?: string;
  /** Narrower scopes for this access token (RFC 6749 §6); never wider than the session's. */
  scope?: readonly string[];
  /**
   * Checks the request's DPoP proof against the session's bound key (null when unbound) and resolves to the
   * proof's thumbprint; it runs before the token is spent, so a refused proof costs the client nothing. A bound
   * session refreshed without it is refused.
   */
  dpopProof?: DPoPProofCheck;
}

/** Checks a request's DPoP proof against a bound thumbprint; resolves to the proof's thumbprint, if one was sent. */
export type DPoPProofCheck = (boundJkt: string | null) => Promise<string | undefined>;

const GRANT_INVALID = 'the refresh token is invalid or expired; sign in again';

function grantError(code: ServerErrorCode, message: string): DomainError {
  return new DomainError('grant', code, message);
}

/**
 * Whether a session can still be refreshed or renewed at `now`: not revoked, before its absolute expiry, and used
 * within its idle timeout (the same rule as the store's `listSessionsForUser`).
 */
export function isSessionLive(session: Session, now: number): boolean {
  if (session.revokedAt !== null || session.absoluteExpiresAt <= now) return false;
  return session.idleTimeoutMs === null || session.lastUsedAt + session.idleTimeoutMs > now;
}

/**
 * Whether renewing this token now revokes it (one revocation-feed entry): only when it still has more than half its
 * lifetime left. A client renewing on schedule (`@jot/client`: at most half the lifetime before expiry) adds none;
 * the renewed token then stays valid for the rest of its life, as an access token does after a refresh.
 */
export function renewalRevokes(claims: Pick<UserAccessTokenClaims, 'iat' | 'exp'>, now: number): boolean {
  return claims.exp * 1000 - now > ((claims.exp - claims.iat) * 1000) / 2;
}

/** Builds the session service. */
export function createSessionService(deps: {
  store: Store;
  tokens: TokenService;
  revocations: RevocationService;
  events: SecurityEvents;
  csrf: CsrfTokens;
  scopes: ScopePolicy;
  clock: Clock;
  settings: SessionSettings;
}): SessionService {
  const { store, tokens, revocations, events, csrf, scopes, clock, settings } = deps;

  /** The session's user, if active and still on the session's credential generation. */
  async function activeUser(session: Session): Promise<User> {
    const user = await store.getUserById(session.userId);
    if (user === undefined || user.status !== 'active') {
      throw grantError('ERR_USER_DISABLED', 'this account is disabled or no longer exists');
    }
    if (user.credentialGeneration !== session.credentialGeneration) {
      throw grantError(
        'ERR_SESSION_ENDED',
        'the session has ended (password changed or signed out everywhere); sign in again',
      );
    }
    await revocations.waitPastCutoff(user);
    return user;
  }

  async function accessFor(
    user: User,
    session: Session,
    narrowTo: readonly string[] | undefined,
    dpopJkt: string | null,
  ) {
    let granted = await scopes.forUser(user.roles, session.clientId);
    if (narrowTo !== undefined) {
      const wider = narrowTo.filter((scope) => !granted.includes(scope));
      if (wider.length > 0) {
        throw new DomainError(
          'invalid',
          'ERR_SCOPE_WIDENED',
          `the session was not granted "${wider.join(' ')}"`,
        );
      }
      granted = [...narrowTo];
    }
    return tokens.issue({
      userId: user.id,
      sessionId: session.id,
      tokenVersion: user.tokenVersion,
      authTime: session.authTime,
      roles: user.roles,
      emailVerified: user.emailVerifiedAt !== null,
      csrfHash: session.csrfHash ?? undefined,
      clientId: session.clientId,
      scope: scopeText(granted),
      amr: session.amr,
      acr: session.acr,
      dpopJkt: dpopJkt ?? undefined,
    });
  }

  /** The token pair; the access token is bound to the session's DPoP key (if any) and sealed if registered. */
  async function pair(
    user: User,
    session: Session,
    refreshToken?: string,
    narrowTo?: readonly string[],
  ): Promise<TokenPair> {
    const access = await tokens.seal(await accessFor(user, session, narrowTo, session.dpopJkt));
    return {
      accessToken: access.token,
      expiresIn: access.expiresIn,
      refreshToken,
      csrfToken: session.delivery === 'bearer' ? undefined : csrf.forSession(session.id),
      claims: access.claims,
      session,
    };
  }

  /**
   * The session as it is now, if still live. Checked again right before tokens are issued: issuing may have waited
   * for the user's cut-off, and a logout-everywhere may have ended the session meanwhile.
   */
  async function stillLive(sessionId: string): Promise<Session> {
    const session = await store.getSession(sessionId);
    if (session === undefined || !isSessionLive(session, clock())) {
      throw grantError('ERR_SESSION_ENDED', 'the session has ended; sign in again');
    }
    return session;
  }

  async function endForReuse(session: Session, client: ClientInfo, generation: number): Promise<never> {
    await revocations.revokeSession(session.id, 'refresh_token_reuse');
    await events.record('refresh_token_reuse', {
      userId: session.userId,
      sessionId: session.id,
      ip: client.ip,
      detail: { generation },
    });
    throw grantError(
      'ERR_REFRESH_TOKEN_REUSED',
      'this refresh token was already used; the session has been ended for safety — sign in again',
    );
  }

  async function endForRenewalReuse(
    session: Session | undefined,
    client: ClientInfo,
    renewal: TokenRenewal,
    now: number,
  ): Promise<never> {
    // Recorded once, by whichever request ended the session.
    if (session !== undefined && (await revocations.revokeSession(session.id, 'renewal_reuse'))) {
      await events.record('renewal_reuse', {
        userId: session.userId,
        sessionId: session.id,
        ip: client.ip,
        detail: { renewedMsAgo: now - renewal.renewedAt },
      });
    }
    throw grantError(
      'ERR_TOKEN_ALREADY_RENEWED',
      'this access token was already renewed; the session has been ended for safety — sign in again',
    );
  }

  /**
   * A renewal of a token that was renewed already. Within the grace window, and while its successor has not been
   * renewed in turn, it gets that same successor (two tabs renewing at once); otherwise it is reuse — a copy of the
   * token renewed twice — and the session ends.
   */
  async function renewedAgain(
    claims: UserAccessTokenClaims,
    token: string,
    renewal: TokenRenewal,
    now: number,
    client: ClientInfo,
  ): Promise<TokenPair> {
    const session = await store.getSession(claims.sid);
    const withinGrace =
      now - renewal.renewedAt < settings.graceMs &&
      (await store.getTokenRenewal(renewal.successorHash)) === undefined;
    const successor = withinGrace ? openRenewal(token, renewal.successorCiphertext) : undefined;
    if (successor === undefined) return endForRenewalReuse(session, client, renewal, now);
    const live = await stillLive(claims.sid);
    await activeUser(live);
    const opened = await tokens.open(successor);
    const successorClaims = await tokens.fresh(() => tokens.verify(opened));
    return {
      accessToken: successor,
      expiresIn: Math.max(0, successorClaims.exp - Math.floor(now / 1000)),
      csrfToken: live.delivery === 'bearer' ? undefined : csrf.forSession(live.id),
      claims: successorClaims,
      session: live,
    };
  }

  /**
   * A refresh found its session not live, or its user not active on the session's credential generation (the touch
   * matched nothing): reads both again to say which. A disabled or deleted account, or an older credential
   * generation, ends the session; a database outage does not (the read throws first).
   */
  async function sessionEnded(session: Session): Promise<never> {
    const [current, user] = await Promise.all([
      store.getSession(session.id),
      store.getUserById(session.userId),
    ]);
    if (current === undefined || !isSessionLive(current, clock())) {
      throw grantError('ERR_SESSION_ENDED', 'the session has ended; sign in again');
    }
    if (user === undefined || user.status !== 'active') {
      await revocations.revokeSession(session.id, 'user_disabled');
      throw grantError('ERR_USER_DISABLED', 'this account is disabled or no longer exists');
    }
    await revocations.revokeSession(session.id, 'credentials_changed');
    throw grantError(
      'ERR_SESSION_ENDED',
      'the session has ended (password changed or signed out everywhere); sign in again',
    );
  }

  return {
    async start(before, client, options = {}) {
      const now = clock();
      await revocations.waitPastCutoff(before);
      const delivery = options.delivery ?? 'bearer';
      const id = randomUUID();
      // The session and its first refresh token commit together: a lost connection leaves neither.
      const refreshToken = settings.mode === 'refresh' ? newSecret() : undefined;
      const session = await store.transaction(async (tx) => {
        const created = await tx.createSession({
          id,
          userId: before.id,
          absoluteExpiresAt: now + settings.maxLifetimeMs,
          idleTimeoutMs: settings.mode === 'refresh' ? settings.idleTimeoutMs : null,
          authTime: now,
          userAgent: client.userAgent?.slice(0, 512) ?? null,
          ip: client.ip ?? null,
          csrfHash: delivery === 'bearer' ? null : hashForClaim(csrf.forSession(id)),
          mode: settings.mode,
          delivery,
          amr: options.amr,
          acr: options.acr,
          dpopJkt: options.dpopJkt ?? null,
          credentialGeneration: before.credentialGeneration,
        });
        if (refreshToken !== undefined) {
          await tx.insertRefreshToken({
            tokenHash: hashSecret(refreshToken),
            sessionId: created.id,
            generation: 1,
          });
        }
        return created;
      });
      // The session row is committed; read the user again. Either this read sees a cut-off that committed during
      // the password check (and the session is ended here), or the cut-off commits later and its sweep sees this
      // session. Either way no session outlives the credential check it came from.
      const user = await store.getUserById(before.id);
      if (
        user === undefined ||
        user.status !== 'active' ||
        user.credentialGeneration !== before.credentialGeneration
      ) {
        // No token of this session was issued, so no feed entry is needed: ending the row (and its refresh token)
        // is enough, and takes no lock a concurrent cut-off's sweep could be waiting on.
        await store.revokeSession(session.id, 'credentials_changed');
        await store.deleteRefreshTokensForSession(session.id);
        throw new DomainError(
          'grant',
          'ERR_CREDENTIALS_CHANGED',
          'the password or the account changed while signing in; sign in again',
        );
      }
      return pair(user, session, refreshToken);
    },

    async refresh(refreshToken, client, fromCookie, options = {}) {
      const now = clock();
      const hash = hashSecret(refreshToken);
      // One statement reads the token, its session and the session's user; the transaction below re-checks the
      // session and the user's status and generation atomically with the rotation.
      const state = await store.getRefreshState(hash);
      if (state === undefined) throw grantError('ERR_REFRESH_TOKEN_INVALID', GRANT_INVALID);
      const { token: record, session } = state;
      if (!isSessionLive(session, now)) {
        throw grantError('ERR_SESSION_ENDED', 'the session has ended; sign in again');
      }
      // RFC 6749 §6: a refresh token is bound to the client it was issued to. Checked before rotation, so another
      // client's attempt neither spends the token nor counts as reuse.
      if (options.clientId !== undefined && options.clientId !== session.clientId) {
        throw grantError('ERR_REFRESH_TOKEN_INVALID', 'this refresh token was issued to another client');
      }
      if (fromCookie !== undefined && !csrf.matchesSession(session.id, fromCookie.csrfHeader)) {
        throw csrfRefusal('a cookie refresh needs the X-Csrf-Token header of this session', {
          userId: session.userId,
          sessionId: session.id,
        });
      }
      // A token rotated longer ago than the grace window is reuse whoever presents it, with or without a proof:
      // ended here, before the proof check, so a thief who bound a stolen family to their own key (below) cannot
      // hide the reuse behind the victim's missing proof.
      if (record.rotatedAt !== null && now - record.rotatedAt >= settings.graceMs) {
        return endForReuse(session, client, record.generation);
      }
      const proofJkt = options.dpopProof === undefined ? undefined : await options.dpopProof(session.dpopJkt);
      if (session.dpopJkt !== null && proofJkt !== session.dpopJkt) {
        throw new DomainError(
          'invalid',
          'ERR_DPOP_REQUIRED',
          'this session is bound to a DPoP key: send a proof made with it',
        );
      }
      // An unbound session refreshed with a proof is bound to that key from now on — its access token and its
      // refresh-token family (RFC 9449 §5: a public client's refresh tokens are bound to its key). Concurrent
      // binds with different keys: the first wins, the other is refused like any proof from the wrong key.
      if (session.dpopJkt === null && proofJkt !== undefined) {
        const bound = await store.bindSessionDPoPKey(session.id, proofJkt);
        if (bound === undefined)
          throw grantError('ERR_SESSION_ENDED', 'the session has ended; sign in again');
        if (bound !== proofJkt) {
          throw new DomainError(
            'invalid',
            'ERR_DPOP_KEY_MISMATCH',
            'this session is bound to another DPoP key: send a proof made with it',
          );
        }
      }
      let issued: string | undefined;
      let touched: Session | undefined;
      // A token already rotated when read is a second use: no transaction can change that, so it goes straight to
      // the grace-window rule.
      let rotated: RefreshToken | undefined = record.rotatedAt === null ? undefined : record;
      if (rotated === undefined) {
        const successor = newSecret();
        const result = await store.rotateRefreshToken(
          hash,
          {
            hash: hashSecret(successor),
            ciphertext: sealSuccessor(refreshToken, successor),
            generation: record.generation + 1,
          },
          now,
          { touchSession: session.id },
        );
        if (result.status === 'not_found') throw grantError('ERR_REFRESH_TOKEN_INVALID', GRANT_INVALID);
        if (result.status === 'session_ended') return sessionEnded(session);
        touched = result.session;
        issued = successor;
        if (result.status === 'already_rotated') rotated = result.token;
      }
      if (rotated !== undefined) {
        const next =
          rotated.successorHash === null ? undefined : await store.getRefreshToken(rotated.successorHash);
        const withinGrace =
          rotated.rotatedAt !== null &&
          now - rotated.rotatedAt < settings.graceMs &&
          next?.rotatedAt === null;
        const again =
          withinGrace && rotated.successorCiphertext !== null
            ? openSuccessor(refreshToken, rotated.successorCiphertext)
            : undefined;
        if (again === undefined) return endForReuse(session, client, rotated.generation);
        issued = again;
        touched ??= await store.touchLiveSession(session.id, now);
        if (touched === undefined) return sessionEnded(session);
      }
      // The touch above proved the user active on the session's generation when it ran; the claims come from the
      // user as read with the token (a role change since is caught by the `ver` check of the token it yields).
      const user = state.user;
      if (user === undefined || touched === undefined || issued === undefined) return sessionEnded(session);
      // Waiting for the user's cut-off second may outlast a logout-everywhere: then look at the session again.
      const live = (await revocations.waitPastCutoff(user)) ? await stillLive(session.id) : touched;
      return pair(user, live, issued, options.scope);
    },

    async renew({ claims, token }, client = {}) {
      const now = clock();
      const claim = hashSecret(`renew:${claims.jti}`);
      const earlier = await store.getTokenRenewal(claim);
      if (earlier !== undefined) return renewedAgain(claims, token, earlier, now, client);
      try {
        await revocations.check(claims);
      } catch (err) {
        // Another instance may have renewed (and so revoked) this token since the read above: answer as a repeat.
        const meanwhile = await store.getTokenRenewal(claim);
        if (meanwhile !== undefined) return renewedAgain(claims, token, meanwhile, now, client);
        throw err;
      }
      const user = await activeUser(await stillLive(claims.sid));
      const next = await pair(user, await stillLive(claims.sid));
      const won = await store.claimTokenRenewal(
        {
          tokenHash: claim,
          sessionId: claims.sid,
          successorHash: hashSecret(`renew:${next.claims.jti}`),
          successorCiphertext: sealRenewal(token, next.accessToken),
          expiresAt: claims.exp * 1000 + settings.clockToleranceMs,
        },
        now,
      );
      if (!won) {
        // Lost a race with a renewal of the same token on this or another instance: its successor is the answer.
        const winner = await store.getTokenRenewal(claim);
        if (winner === undefined)
          throw grantError('ERR_SESSION_ENDED', 'the session has ended; sign in again');
        return renewedAgain(claims, token, winner, now, client);
      }
      // The renewed token stays valid until it expires, as an access token does after a refresh — unless it had
      // more than half its lifetime left: then it is revoked (one feed entry, limited per user by the route).
      if (renewalRevokes(claims, now)) await revocations.revokeToken(claims.jti, claims.exp);
      await store.touchSession(claims.sid, now);
      return next;
    },

    async reissue(sessionId, options = {}) {
      await stillLive(sessionId);
      if (options.authTime !== undefined) {
        await store.setSessionAuthentication(sessionId, {
          authTime: options.authTime,
          amr: options.amr,
          acr: options.acr,
        });
      }
      const before = await stillLive(sessionId);
      const user = await activeUser(before);
      let refreshToken: string | undefined;
      if (options.rotateRefreshToken && before.mode === 'refresh') {
        // A password change also replaces this device's refresh token: a copy stolen before it is dead. Both in
        // one transaction, so the session is never left without one.
        const fresh = newSecret();
        await store.transaction(async (tx) => {
          await tx.deleteRefreshTokensForSession(sessionId);
          await tx.insertRefreshToken({ tokenHash: hashSecret(fresh), sessionId, generation: 1 });
        });
        refreshToken = fresh;
      }
      return pair(user, await stillLive(sessionId), refreshToken);
    },
  };
}
