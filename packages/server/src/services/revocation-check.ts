/**
 * The revocation check of a request: one database statement reads the token's `jti` entry, its user and its
 * session, and any reason to refuse is `@jot/verify`'s `ERR_TOKEN_REVOKED` refusal, worded as a resource server's
 * verifier words it.
 */
import type { UserAccessTokenClaims } from '@jot/contract';
import { tokenRevoked } from '@jot/verify';

import type { Session, Store, User } from '../store/index.js';

/** Whether a session can still back tokens at `now` (not revoked, before its absolute expiry). */
function sessionLive(session: { revokedAt: number | null; absoluteExpiresAt: number }, now: number): boolean {
  return session.revokedAt === null && session.absoluteExpiresAt > now;
}

/** Throws if any revocation applies to the (verified) claims at `now`; else the user and session it read. */
export async function checkRevocation(
  store: Store,
  claims: UserAccessTokenClaims,
  now: number,
): Promise<{ user: User; session: Session }> {
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
}
