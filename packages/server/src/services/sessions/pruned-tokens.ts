/**
 * Refresh tokens whose rows were pruned after their rotation (store/refresh-token-pruning.ts). A version-2 token
 * carries the marker of its family (refresh-token-tags.ts), and every later token of the family carries it on, in its
 * row too: a token missing from the store whose family still has rows was rotated and pruned — presenting it again is
 * reuse, as it was while its row was kept. A family with no row left (its session revoked, logged out, pruned, or its
 * tokens replaced by a password change, which starts a new family) names nothing: the token is stale, as before.
 *
 * A marker is 64 random bits, so two families sharing one is unlikely, but not impossible: a marker found on the rows
 * of more than one session names none of them, and the token counts as stale — never as the reuse of a session it may
 * not belong to.
 */
import type { Session, Store } from '../../store/index.js';
import type { RefreshTokenTags } from '../refresh-token-tags.js';

/**
 * The session of the family `token` names, if it is a version-2 token of this deployment whose marker the rows of
 * exactly one session carry; undefined otherwise (no marker, no such family, or an ambiguous one). The session may
 * have ended since: the caller judges it.
 */
export async function sessionOfPrunedToken(
  deps: { store: Store; refreshTokens: RefreshTokenTags },
  token: string,
): Promise<Session | undefined> {
  const marker = deps.refreshTokens.markerOf(token);
  if (marker === undefined) return undefined;
  const sessions = await deps.store.sessionsWithRefreshMarker(marker);
  return sessions.length === 1 ? deps.store.getSession(sessions[0]!) : undefined;
}
