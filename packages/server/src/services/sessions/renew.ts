/**
 * Single-token renewal: a still-valid access token for a fresh one, once per token atomically across instances,
 * with the same grace-window rule as refresh-token rotation.
 */
import type { UserAccessTokenClaims } from '@jot/contract';

import type { TokenRenewal } from '../../store/index.js';
import { hashSecret, openRenewal, sealRenewal } from '../secrets.js';
import { endForRenewalReuse } from './ending.js';
import { activeUser, pair, stillLive } from './issue.js';
import { renewalRevokes, sessionEndedError } from './rules.js';
import type { ClientInfo, SessionDeps, TokenPair } from './types.js';

/**
 * A renewal of a token that was renewed already. Within the grace window, and while its successor has not been
 * renewed in turn, it gets that same successor (two tabs renewing at once); otherwise it is reuse — a copy of the
 * token renewed twice — and the session ends.
 */
async function renewedAgain(
  deps: SessionDeps,
  presented: { claims: UserAccessTokenClaims; token: string },
  renewal: TokenRenewal,
  now: number,
  client: ClientInfo,
): Promise<TokenPair> {
  const { store, tokens } = deps;
  const { claims, token } = presented;
  const session = await store.getSession(claims.sid);
  const withinGrace =
    now - renewal.renewedAt < deps.settings.graceMs &&
    (await store.getTokenRenewal(renewal.successorHash)) === undefined;
  const successor = withinGrace ? openRenewal(token, renewal.successorCiphertext) : undefined;
  if (successor === undefined) return endForRenewalReuse(deps, session, client, renewal, now);
  const live = await stillLive(deps, claims.sid);
  await activeUser(deps, live);
  const opened = await tokens.open(successor);
  const successorClaims = await tokens.fresh(() => tokens.verify(opened));
  return {
    accessToken: successor,
    expiresIn: Math.max(0, successorClaims.exp - Math.floor(now / 1000)),
    csrfToken: live.delivery === 'bearer' ? undefined : deps.csrf.forSession(live.id),
    claims: successorClaims,
    session: live,
  };
}

/** See {@link SessionService.renew}. */
export async function renewToken(
  deps: SessionDeps,
  presented: { claims: UserAccessTokenClaims; token: string },
  client: ClientInfo = {},
): Promise<TokenPair> {
  const { store, revocations } = deps;
  const { claims, token } = presented;
  const now = deps.clock();
  const claim = hashSecret(`renew:${claims.jti}`);
  const earlier = await store.getTokenRenewal(claim);
  if (earlier !== undefined) return renewedAgain(deps, presented, earlier, now, client);
  try {
    await revocations.check(claims);
  } catch (err) {
    // Another instance may have renewed (and so revoked) this token since the read above: answer as a repeat.
    const meanwhile = await store.getTokenRenewal(claim);
    if (meanwhile !== undefined) return renewedAgain(deps, presented, meanwhile, now, client);
    throw err;
  }
  const user = await activeUser(deps, await stillLive(deps, claims.sid));
  const next = await pair(deps, user, await stillLive(deps, claims.sid));
  const won = await store.claimTokenRenewal(
    {
      tokenHash: claim,
      sessionId: claims.sid,
      successorHash: hashSecret(`renew:${next.claims.jti}`),
      successorCiphertext: sealRenewal(token, next.accessToken),
      expiresAt: claims.exp * 1000 + deps.settings.clockToleranceMs,
    },
    now,
  );
  if (!won) {
    // Lost a race with a renewal of the same token on this or another instance: its successor is the answer.
    const winner = await store.getTokenRenewal(claim);
    if (winner === undefined) throw sessionEndedError();
    return renewedAgain(deps, presented, winner, now, client);
  }
  // The renewed token stays valid until it expires, as an access token does after a refresh — unless it had
  // more than half its lifetime left: then it is revoked (one feed entry, limited per user by the route).
  if (renewalRevokes(claims, now)) await revocations.revokeToken(claims.jti, claims.exp);
  await store.touchSession(claims.sid, now);
  return next;
}
