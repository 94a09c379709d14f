/** The session service's shapes: what it returns, what it is given, and what it is built from. */
import type { UserAccessTokenClaims } from '@jot/contract';

import type { Clock } from '../../clock.js';
import type {
  LoginReservation,
  Session,
  SessionDelivery,
  SessionSighting,
  Store,
  User,
} from '../../store/index.js';
import type { CsrfTokens } from '../csrf.js';
import type { RefreshTokenTags } from '../refresh-token-tags.js';
import type { RevocationService } from '../revocation.js';
import type { ScopePolicy } from '../scopes.js';
import type { SecurityEvents } from '../security-events.js';
import type { TokenService } from '../tokens.js';

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
  /** A refresh's facts for the theft signals, read with its token (when `signals` was asked for). */
  signals?: RefreshSignals;
}

/** What a sign-in or a reissue returns: the pair, and when the account was last found unchanged. */
export interface CheckedTokenPair extends TokenPair {
  /**
   * Epoch ms taken after the wait past the account's cut-off and before the last read that found the session's
   * credentials current. What the device credential (services/login-devices.ts) and the known device
   * (theft-signals.ts) given with this pair are stamped with: a cut-off that read missed comes at or after it, so it
   * ends them too, instead of their being stamped in a later second than a cut-off that raced the sign-in.
   */
  checkedAt: number;
}

/** What the theft signals compare a refresh with, read in the refresh's own first statement. */
export interface RefreshSignals {
  /** Where the session was used before this refresh. */
  sighting: SessionSighting | undefined;
  /**
   * Rotations of the session's refresh tokens within `SessionSettings.rotationWindowMs`, this refresh's own
   * included; read up to `rotationCountCap` (one more when this refresh rotated).
   */
  rotations: number;
  /** Whether the refresh recorded the `sighting` it was given (else it is the caller's to write). */
  sighted: boolean;
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
  /** The window of a session's rotation count (one access-token lifetime): for `rotationLimit` and the signals. */
  rotationWindowMs: number;
  /**
   * Rotations of one session within `rotationWindowMs` after which its refreshes are refused (429
   * `ERR_REFRESH_LIMITED`) until the oldest counted one leaves the window; no limit when absent.
   */
  rotationLimit?: number;
}

/** Checks a request's DPoP proof against a bound thumbprint; resolves to the proof's thumbprint, if one was sent. */
export type DPoPProofCheck = (boundJkt: string | null) => Promise<string | undefined>;

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
  /** Count the session's rotations within `SessionSettings.rotationWindowMs` into the pair's `signals`. */
  signals?: boolean;
  /**
   * Count at most this many of them (a signal that compares the count with a limit needs no more, and the count then
   * costs the same however fast the session rotates); unbounded when absent. Never below the rotation limit.
   */
  rotationCountCap?: number;
  /**
   * Where this refresh comes from: recorded as the session's sighting with the rotation itself (one statement on
   * PostgreSQL), and the pair's `signals.sighted` says whether it was.
   */
  sighting?: { network: string; userAgent: string };
}

/** Options of a sign-in. */
export interface StartOptions {
  delivery?: SessionDelivery;
  amr?: readonly string[];
  acr?: string;
  dpopJkt?: string;
  /**
   * The password sign-in's reserved attempt (services/login-throttle.ts): its success is forgotten with the session's
   * commit, not in a write of its own.
   */
  forget?: LoginReservation;
}

/** Options of a reissue. */
export interface ReissueOptions {
  authTime?: number;
  amr?: readonly string[];
  acr?: string;
  rotateRefreshToken?: boolean;
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
  start(user: User, client: ClientInfo, options?: StartOptions): Promise<CheckedTokenPair>;
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
   * The session a refresh token would refresh, judged as `refresh` judges it but not spent (the CSRF bootstrap of a
   * page that reloaded): refused with the same errors — an unknown token as `isUnknownRefreshToken`, a rotated one
   * past the grace window (or two generations back) as reuse, which ends the session. The immediately previous
   * token within the grace window, its successor unused, passes, as its refresh would.
   */
  sessionOfRefreshToken(refreshToken: string, client: ClientInfo): Promise<Session>;
  /**
   * The session a refresh token belongs to without its row — one rotated and pruned since, named by its family's
   * marker (sessions/pruned-tokens.ts) — or undefined: not a version-2 token of this deployment, its family gone,
   * or the marker ambiguous. Not judged (the session may have ended); for RFC 7009 revocation, which ends the session
   * of any token of it the client presents, rotated or not.
   */
  sessionOfPrunedRefreshToken(refreshToken: string): Promise<Session | undefined>;
  /**
   * Single-token mode: a still-valid access token (signature and claims verified, revocation not yet checked) for
   * a fresh one. Each token is renewed once, atomically across instances; a repeat within the grace window gets
   * the same successor, a repeat after it (or of a token whose successor was renewed in turn) is reuse: the session
   * ends with 401 `ERR_TOKEN_ALREADY_RENEWED`. The renewed token is revoked only when `renewalRevokes`.
   */
  renew(presented: { claims: UserAccessTokenClaims; token: string }, client?: ClientInfo): Promise<TokenPair>;
  /**
   * New tokens for an existing live session (after a password change or re-authentication); `rotateRefreshToken`
   * also replaces the session's refresh token.
   */
  reissue(sessionId: string, options?: ReissueOptions): Promise<CheckedTokenPair>;
}

/** What the session service is built from; every part of it takes these. */
export interface SessionDeps {
  store: Store;
  tokens: TokenService;
  revocations: RevocationService;
  events: SecurityEvents;
  csrf: CsrfTokens;
  /** Issues refresh tokens and recognises this deployment's own, stale or not (services/refresh-token-tags.ts). */
  refreshTokens: RefreshTokenTags;
  scopes: ScopePolicy;
  clock: Clock;
  settings: SessionSettings;
}
