/** Issuing a session's tokens: the checks right before, the access token's claims, and the pair returned. */
import type { Session, User } from '../../store/index.js';
import { DomainError } from '../errors.js';
import { scopeText } from '../scopes.js';
import type { IssuedAccessToken } from '../tokens.js';
import { echoed } from '../echoed.js';
import { credentialsEndedError, isSessionLive, sessionEndedError, userDisabledError } from './rules.js';
import type { SessionDeps, TokenPair } from './types.js';

/** The session's user, if active and still on the session's credential generation. */
export async function activeUser(deps: SessionDeps, session: Session): Promise<User> {
  const user = await deps.store.getUserById(session.userId);
  if (user === undefined || user.status !== 'active') throw userDisabledError();
  if (user.credentialGeneration !== session.credentialGeneration) throw credentialsEndedError();
  await deps.revocations.waitPastCutoff(user);
  return user;
}

/**
 * The session as it is now, if still live. Checked again right before tokens are issued: issuing may have waited
 * for the user's cut-off, and a logout-everywhere may have ended the session meanwhile.
 */
export async function stillLive(deps: SessionDeps, sessionId: string): Promise<Session> {
  const session = await deps.store.getSession(sessionId);
  if (session === undefined || !isSessionLive(session, deps.clock())) throw sessionEndedError();
  return session;
}

/**
 * What decides the access token's scopes beyond the user's roles: narrower scopes asked for, and the client's
 * registered scopes when the caller read them already (else they are read here).
 */
export interface ScopeRequest {
  narrowTo?: readonly string[];
  client?: { scopes: readonly string[] | undefined };
}

/** The scopes of the access token: the user's for the session's client, narrowed (never widened) on request. */
async function grantedScopes(
  deps: SessionDeps,
  user: User,
  session: Session,
  request: ScopeRequest,
): Promise<string[]> {
  const { narrowTo, client } = request;
  const granted =
    client === undefined
      ? await deps.scopes.forUser(user.roles, session.clientId)
      : deps.scopes.forUserOfClient(user.roles, client.scopes);
  if (narrowTo === undefined) return granted;
  refuseWidening(granted, narrowTo);
  return [...narrowTo];
}

/** Refuses a requested scope the session was not granted (`ERR_SCOPE_WIDENED`, OAuth's `invalid_scope`). */
export function refuseWidening(granted: readonly string[], narrowTo: readonly string[] | undefined): void {
  const wider = narrowTo?.filter((scope) => !granted.includes(scope)) ?? [];
  if (wider.length > 0) {
    throw new DomainError(
      'invalid',
      'ERR_SCOPE_WIDENED',
      `the session was not granted "${echoed(wider.join(' '))}"`,
    );
  }
}

async function accessFor(
  deps: SessionDeps,
  user: User,
  session: Session,
  request: ScopeRequest,
): Promise<IssuedAccessToken> {
  const granted = await grantedScopes(deps, user, session, request);
  return deps.tokens.issue({
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
    dpopJkt: session.dpopJkt ?? undefined,
  });
}

/** The token pair; the access token is bound to the session's DPoP key (if any) and sealed if registered. */
export async function pair(
  deps: SessionDeps,
  user: User,
  session: Session,
  refreshToken?: string,
  scopes: ScopeRequest = {},
): Promise<TokenPair> {
  const access = await deps.tokens.seal(await accessFor(deps, user, session, scopes));
  return {
    accessToken: access.token,
    expiresIn: access.expiresIn,
    refreshToken,
    csrfToken: session.delivery === 'bearer' ? undefined : deps.csrf.forSession(session.id),
    claims: access.claims,
    session,
  };
}
