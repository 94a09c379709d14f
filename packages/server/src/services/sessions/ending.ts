/** How a refresh or renewal ends a session it finds stolen or no longer valid, and the error it answers with. */
import type { Session, TokenRenewal } from '../../store/index.js';
import {
  credentialsEndedError,
  grantError,
  isSessionLive,
  sessionEndedError,
  userDisabledError,
} from './rules.js';
import type { ClientInfo, SessionDeps } from './types.js';

/**
 * A refresh token used again after its grace: the session ends, and the reuse is recorded once — by whichever
 * request ended it (replays racing on several instances all answer `ERR_REFRESH_TOKEN_REUSED`). When something else
 * ended the session first — a logout that committed after this request read the session live —, the reuse is still
 * recorded, once whatever the number of replays, with `detail.sessionAlreadyEnded` the reason it had ended.
 * `detail.generation` is the token's place in its family; null for a token whose row was pruned (pruned-tokens.ts).
 */
export async function endForReuse(
  deps: SessionDeps,
  session: Session,
  client: ClientInfo,
  generation: number | null,
): Promise<never> {
  const facts = { userId: session.userId, sessionId: session.id, ip: client.ip };
  if (await deps.revocations.revokeSession(session.id, 'refresh_token_reuse')) {
    await deps.events.record('refresh_token_reuse', { ...facts, detail: { generation } });
  } else {
    // The reason a session was revoked never changes once set. Revoked for reuse: the request that revoked it
    // records it. Gone: deleted with its account, whose events are not added to any more.
    const ended = await deps.store.getSession(session.id);
    if (ended !== undefined && ended.revokedReason !== 'refresh_token_reuse') {
      await deps.events.recordOncePerSession('refresh_token_reuse', {
        ...facts,
        detail: { generation, sessionAlreadyEnded: ended.revokedReason },
      });
    }
  }
  throw grantError(
    'ERR_REFRESH_TOKEN_REUSED',
    'this refresh token was already used; the session has been ended for safety — sign in again',
  );
}

/**
 * An access token renewed twice: the session ends, and the reuse is recorded once — by whichever request ended it.
 * When something else ended the session first (a logout, before this renewal or while it ran), the reuse is still
 * recorded, once whatever the number of repeats, with `detail.sessionAlreadyEnded` the reason it had ended — as
 * {@link endForReuse} records a refresh token's.
 */
export async function endForRenewalReuse(
  deps: SessionDeps,
  session: Session | undefined,
  client: ClientInfo,
  renewal: TokenRenewal,
  now: number,
): Promise<never> {
  if (session !== undefined) {
    const facts = { userId: session.userId, sessionId: session.id, ip: client.ip };
    const detail = { renewedMsAgo: now - renewal.renewedAt };
    if (await deps.revocations.revokeSession(session.id, 'renewal_reuse')) {
      await deps.events.record('renewal_reuse', { ...facts, detail });
    } else {
      // Revoked for renewal reuse: the request that revoked it records it. Gone: deleted with its account.
      const ended = await deps.store.getSession(session.id);
      if (ended !== undefined && ended.revokedReason !== 'renewal_reuse') {
        await deps.events.recordOncePerSession('renewal_reuse', {
          ...facts,
          detail: { ...detail, sessionAlreadyEnded: ended.revokedReason },
        });
      }
    }
  }
  throw grantError(
    'ERR_TOKEN_ALREADY_RENEWED',
    'this access token was already renewed; the session has been ended for safety — sign in again',
  );
}

/**
 * A refresh found its session not live, or its user not active on the session's credential generation (the touch
 * matched nothing): reads both again to say which. A disabled or deleted account, or an older credential
 * generation, ends the session; a database outage does not (the read throws first).
 */
export async function sessionEnded(deps: SessionDeps, session: Session): Promise<never> {
  const { store, revocations } = deps;
  const [current, user] = await Promise.all([
    store.getSession(session.id),
    store.getUserById(session.userId),
  ]);
  if (current === undefined || !isSessionLive(current, deps.clock())) throw sessionEndedError();
  if (user === undefined || user.status !== 'active') {
    await revocations.revokeSession(session.id, 'user_disabled');
    throw userDisabledError();
  }
  await revocations.revokeSession(session.id, 'credentials_changed');
  throw credentialsEndedError();
}
