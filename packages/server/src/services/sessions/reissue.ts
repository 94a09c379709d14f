/** New tokens for a live session after a password change or a re-authentication. */
import { hashSecret } from '../secrets.js';
import { activeUser, pair, stillLive } from './issue.js';
import type { CheckedTokenPair, ReissueOptions, SessionDeps } from './types.js';

/** See {@link SessionService.reissue}. */
export async function reissueTokens(
  deps: SessionDeps,
  sessionId: string,
  options: ReissueOptions = {},
): Promise<CheckedTokenPair> {
  const { store } = deps;
  await stillLive(deps, sessionId);
  if (options.authTime !== undefined) {
    await store.setSessionAuthentication(sessionId, {
      authTime: options.authTime,
      amr: options.amr,
      acr: options.acr,
    });
  }
  const before = await stillLive(deps, sessionId);
  const user = await activeUser(deps, before);
  let refreshToken: string | undefined;
  if (options.rotateRefreshToken && before.mode === 'refresh') {
    // A password change also replaces this device's refresh token: a copy stolen before it is dead. Both in
    // one transaction, so the session is never left without one.
    // A new family (its own marker): the replaced token and its rotated forebears are gone from the store and name
    // no session, so a copy presented later is stale, as before, not reuse.
    const marker = deps.refreshTokens.newMarker();
    const fresh = deps.refreshTokens.issue(marker);
    await store.transaction(async (tx) => {
      await tx.deleteRefreshTokensForSession(sessionId);
      await tx.insertRefreshToken({
        tokenHash: hashSecret(fresh),
        sessionId,
        generation: 1,
        marker,
      });
    });
    refreshToken = fresh;
  }
  // Past the cut-off's second (activeUser waited) and before the last look at the session: a cut-off that look
  // misses is no earlier.
  const checkedAt = deps.clock();
  return { ...(await pair(deps, user, await stillLive(deps, sessionId), refreshToken)), checkedAt };
}
