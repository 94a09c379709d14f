/** Sign-in: a new session, its first refresh token, and the re-read that ends it if the credentials changed. */
import { randomUUID } from 'node:crypto';

import type { Session, User } from '../../store/index.js';
import { DomainError } from '../errors.js';
import { hashForClaim, hashSecret } from '../secrets.js';
import { pair } from './issue.js';
import type { CheckedTokenPair, ClientInfo, SessionDeps, StartOptions } from './types.js';

/**
 * The session row and its first refresh token, committed together (with the forgetting of the sign-in's reserved
 * attempt, `options.forget`): a lost connection leaves none of them. Where the
 * sign-in came from is the session row's own `ip` and `user_agent`: no sighting is written (the first refresh's theft
 * signals compare with those, services/theft-signals.ts).
 */
function createSession(
  deps: SessionDeps,
  before: User,
  client: ClientInfo,
  options: StartOptions,
  refresh: { token: string; marker: string } | undefined,
  now: number,
): Promise<Session> {
  const { store, csrf, settings } = deps;
  const delivery = options.delivery ?? 'bearer';
  const id = randomUUID();
  return store.startSession(
    {
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
    },
    refresh && { tokenHash: hashSecret(refresh.token), marker: refresh.marker },
    options.forget,
    now,
  );
}

/** See {@link SessionService.start}. */
export async function startSession(
  deps: SessionDeps,
  before: User,
  client: ClientInfo,
  options: StartOptions = {},
): Promise<CheckedTokenPair> {
  const { store } = deps;
  const now = deps.clock();
  await deps.revocations.waitPastCutoff(before);
  // The first of a new family of refresh tokens (refresh-token-tags.ts).
  const marker = deps.refreshTokens.newMarker();
  const refresh =
    deps.settings.mode === 'refresh' ? { token: deps.refreshTokens.issue(marker), marker } : undefined;
  const refreshToken = refresh?.token;
  const session = await createSession(deps, before, client, options, refresh, now);
  // Past the cut-off's second (waited for above) and before the re-read: a cut-off the re-read misses is no earlier.
  const checkedAt = deps.clock();
  // The session row is committed; read the user again. Either this read sees a cut-off that committed during
  // the password check (and the session is ended here), or the cut-off commits later and its sweep sees this
  // session. Either way no session outlives the credential check it came from. The client's scopes come with it.
  const { user, clientScopes } = await store.getUserForSession(before.id, session.clientId);
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
  return {
    ...(await pair(deps, user, session, refreshToken, { client: { scopes: clientScopes } })),
    checkedAt,
  };
}
