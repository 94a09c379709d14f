/** The rules every session flow applies: when a session is live, when a renewal revokes, and the grant errors. */
import type { ServerErrorCode, UserAccessTokenClaims } from '@jot/contract';

import type { Session } from '../../store/index.js';
import { DomainError } from '../errors.js';

/** The message of a refresh token that is unknown, expired or bound elsewhere. */
export const GRANT_INVALID = 'the refresh token is invalid or expired; sign in again';

/** A refused grant (401). */
export function grantError(code: ServerErrorCode, message: string): DomainError {
  return new DomainError('grant', code, message);
}

/** The refusals {@link unknownRefreshTokenError} made (they carry no other mark: the answer is the same). */
const unknownTokens = new WeakSet<object>();

/**
 * A refresh token the server does not know at all (no such token hash: a guess or garbage), as opposed to one it
 * issued that is no longer usable (expired, session ended, account disabled, reused, another client's). Answered
 * exactly like the others with the same code (`ERR_REFRESH_TOKEN_INVALID`); only this one spends the address's
 * failure budget (plugins/caller-limits.ts), see {@link isUnknownRefreshToken}.
 */
export function unknownRefreshTokenError(): DomainError {
  const err = grantError('ERR_REFRESH_TOKEN_INVALID', GRANT_INVALID);
  unknownTokens.add(err);
  return err;
}

/** Whether `err` refused a refresh token the server does not know (see {@link unknownRefreshTokenError}). */
export function isUnknownRefreshToken(err: unknown): boolean {
  return typeof err === 'object' && err !== null && unknownTokens.has(err);
}

/** The session has ended (revoked, expired, idle too long). */
export function sessionEndedError(): DomainError {
  return grantError('ERR_SESSION_ENDED', 'the session has ended; sign in again');
}

/** The session's credential generation is older than its user's (password changed, signed out everywhere). */
export function credentialsEndedError(): DomainError {
  return grantError(
    'ERR_SESSION_ENDED',
    'the session has ended (password changed or signed out everywhere); sign in again',
  );
}

/** The account is disabled or gone. */
export function userDisabledError(): DomainError {
  return grantError('ERR_USER_DISABLED', 'this account is disabled or no longer exists');
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
