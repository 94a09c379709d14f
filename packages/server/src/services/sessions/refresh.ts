/**
 * Refresh-token rotation (RFC 9700 §4.14.2): each refresh token is used once. A second use of a rotated token is
 * reuse — a sign that it was stolen — and ends the whole session, except for one case: the *immediately previous*
 * token presented again within `graceMs` of its rotation (two tabs refreshing at once) receives the same successor,
 * decrypted from the rotated row with a key only that token yields. The token two generations back, or the previous
 * one after the window (`elapsed >= graceMs`), is reuse.
 */
import type { RefreshState, RefreshToken, Session } from '../../store/index.js';
import { csrfRefusal } from '../csrf.js';
import { DomainError } from '../errors.js';
import { hashSecret, openSuccessor, sealSuccessor } from '../secrets.js';
import { endForReuse, sessionEnded } from './ending.js';
import { pair, refuseWidening, stillLive } from './issue.js';
import { sessionOfPrunedToken } from './pruned-tokens.js';
import {
  GRANT_INVALID,
  grantError,
  isSessionLive,
  sessionEndedError,
  unknownRefreshTokenError,
} from './rules.js';
import type { ClientInfo, RefreshOptions, SessionDeps, TokenPair } from './types.js';

/** What a refresh hands out: the refresh token and the session as the rotation left it. */
interface Spent {
  issued: string;
  touched: Session;
  /** Whether this request rotated the token (not a repeat within the grace window). */
  rotated: boolean;
  /** Whether the rotation recorded the `sighting` asked for (its session was touched). */
  sighted: boolean;
}

/**
 * The checks of a token's session that need no write: the session is live, belongs to the requesting client, and (for
 * a cookie) the CSRF header matches.
 */
function checkSession(
  deps: SessionDeps,
  session: Session,
  now: number,
  fromCookie: { csrfHeader: string | undefined } | undefined,
  options: RefreshOptions,
): void {
  if (!isSessionLive(session, now)) throw sessionEndedError();
  // RFC 6749 §6: a refresh token is bound to the client it was issued to. Checked before rotation, so another
  // client's attempt neither spends the token nor counts as reuse.
  if (options.clientId !== undefined && options.clientId !== session.clientId) {
    throw grantError('ERR_REFRESH_TOKEN_INVALID', 'this refresh token was issued to another client');
  }
  if (fromCookie !== undefined && !deps.csrf.matchesSession(session.id, fromCookie.csrfHeader)) {
    throw csrfRefusal('a cookie refresh needs the X-Csrf-Token header of this session', {
      userId: session.userId,
      sessionId: session.id,
    });
  }
}

/**
 * The token, its session and the session's user, read in one statement, with the checks that need no write
 * ({@link checkSession}). A token missing from the store that names its family (pruned-tokens.ts) was rotated and
 * pruned: judged like a rotated token past its grace window — the same checks of its session, then reuse.
 */
async function readState(
  deps: SessionDeps,
  refreshToken: string,
  hash: string,
  now: number,
  client: ClientInfo,
  fromCookie: { csrfHeader: string | undefined } | undefined,
  options: RefreshOptions,
): Promise<RefreshState> {
  // Without a limit or the signals nobody looks at the count: a cap of 0 reads none. The limit needs to know only
  // whether the count reached it, the signals up to their own cap.
  const limit = deps.settings.rotationLimit ?? 0;
  const signalsCap = options.signals === true ? (options.rotationCountCap ?? Number.MAX_SAFE_INTEGER) : 0;
  const rotations =
    limit === 0 && signalsCap === 0
      ? { since: now, atMost: 0 }
      : { since: now - deps.settings.rotationWindowMs, atMost: Math.max(limit, signalsCap) };
  // Checked before the lookup, whatever it finds: a stale token and a guess cost the same work.
  const issued = deps.refreshTokens.isIssued(refreshToken);
  const state = await deps.store.getRefreshState(hash, rotations.since, rotations.atMost);
  // Gone from the store: anything this deployment did not issue is a guess or garbage, the only kind that spends the
  // address's failure budget.
  if (state === undefined && !issued) throw unknownRefreshTokenError();
  if (state === undefined) {
    // Rotated, then pruned while its family lived on: reuse (after the same checks as a rotated token's, so another
    // client's or a CSRF-less attempt is refused without ending the session). Otherwise stale: its session ended,
    // its account deleted, pruned.
    const family = await sessionOfPrunedToken(deps, refreshToken);
    if (family === undefined) throw grantError('ERR_REFRESH_TOKEN_INVALID', GRANT_INVALID);
    checkSession(deps, family, now, fromCookie, options);
    return endForReuse(deps, family, client, null);
  }
  checkSession(deps, state.session, now, fromCookie, options);
  return state;
}

/**
 * Refuses a rotation once the session has rotated `rotationLimit` times within the window (one access-token
 * lifetime): a signed-in client refreshing in a loop would otherwise add a `refresh_tokens` row per rotation, each
 * kept for an access-token lifetime at least (store/refresh-token-pruning.ts). The count came with the token's read, from the database, so it holds across instances
 * (concurrent refreshes of one session may pass it by as many as run at once). The token is not spent: the client
 * retries after `Retry-After`, when the `rotationLimit`th newest rotation has left the window.
 */
async function refuseOverLimit(deps: SessionDeps, state: RefreshState, now: number): Promise<void> {
  const { rotationLimit, rotationWindowMs } = deps.settings;
  if (rotationLimit === undefined || state.rotations < rotationLimit) return;
  const nth = await deps.store.nthNewestRotation(state.session.id, now - rotationWindowMs, rotationLimit);
  const seconds = Math.max(1, Math.ceil(((nth ?? now) + rotationWindowMs - now) / 1000));
  throw new DomainError(
    'throttled',
    'ERR_REFRESH_LIMITED',
    `this session has refreshed ${rotationLimit} times within one access-token lifetime; use the access token ` +
      `until it expires, or try again in ${seconds} s`,
    { retryAfterSeconds: seconds },
  );
}

/**
 * The request's DPoP proof against the session's key. An unbound session refreshed with a proof is bound to that key
 * from now on — its access token and its refresh-token family (RFC 9449 §5: a public client's refresh tokens are
 * bound to its key). Concurrent binds with different keys: the first wins, the other is refused like any proof
 * from the wrong key.
 */
async function checkProof(deps: SessionDeps, session: Session, options: RefreshOptions): Promise<void> {
  const proofJkt = options.dpopProof === undefined ? undefined : await options.dpopProof(session.dpopJkt);
  if (session.dpopJkt !== null && proofJkt !== session.dpopJkt) {
    throw new DomainError(
      'invalid',
      'ERR_DPOP_REQUIRED',
      'this session is bound to a DPoP key: send a proof made with it',
    );
  }
  if (session.dpopJkt !== null || proofJkt === undefined) return;
  const bound = await deps.store.bindSessionDPoPKey(session.id, proofJkt);
  if (bound === undefined) throw sessionEndedError();
  if (bound !== proofJkt) {
    throw new DomainError(
      'invalid',
      'ERR_DPOP_KEY_MISMATCH',
      'this session is bound to another DPoP key: send a proof made with it',
    );
  }
}

/**
 * The successor a rotated token may be handed again: within the grace window, while that successor is unused, and
 * only if it opens with this very token; undefined when the token is reuse.
 */
async function successorWithinGrace(
  deps: SessionDeps,
  refreshToken: string,
  rotated: RefreshToken,
  now: number,
): Promise<string | undefined> {
  const next =
    rotated.successorHash === null ? undefined : await deps.store.getRefreshToken(rotated.successorHash);
  const withinGrace =
    rotated.rotatedAt !== null && now - rotated.rotatedAt < deps.settings.graceMs && next?.rotatedAt === null;
  return withinGrace && rotated.successorCiphertext !== null
    ? openSuccessor(refreshToken, rotated.successorCiphertext)
    : undefined;
}

/**
 * A second use of a rotated token: within the grace window, and while its successor is unused, it gets that same
 * successor (two tabs refreshing at once); otherwise it is reuse and the session ends.
 */
async function againWithinGrace(
  deps: SessionDeps,
  refreshToken: string,
  rotated: RefreshToken,
  session: Session,
  client: ClientInfo,
  touched: Session | undefined,
  now: number,
): Promise<Spent> {
  const again = await successorWithinGrace(deps, refreshToken, rotated, now);
  if (again === undefined) return endForReuse(deps, session, client, rotated.generation);
  const live = touched ?? (await deps.store.touchLiveSession(session.id, now));
  if (live === undefined) return sessionEnded(deps, session);
  return { issued: again, touched: live, rotated: false, sighted: touched !== undefined };
}

/**
 * Spends the token: rotates it (touching its session in the same transaction) or, if it was rotated already when
 * read or by a concurrent request meanwhile, applies the grace-window rule.
 */
async function spend(
  deps: SessionDeps,
  refreshToken: string,
  hash: string,
  { token: record, session }: RefreshState,
  client: ClientInfo,
  now: number,
  sighting: RefreshOptions['sighting'],
): Promise<Spent> {
  // A token already rotated when read is a second use: no transaction can change that, so it goes straight to
  // the grace-window rule.
  if (record.rotatedAt !== null)
    return againWithinGrace(deps, refreshToken, record, session, client, undefined, now);
  // The successor carries the family's marker on; an older token without one starts a new family here.
  const marker = record.marker ?? deps.refreshTokens.newMarker();
  const successor = deps.refreshTokens.issue(marker);
  const result = await deps.store.rotateRefreshToken(
    hash,
    {
      hash: hashSecret(successor),
      ciphertext: sealSuccessor(refreshToken, successor),
      generation: record.generation + 1,
      marker,
    },
    now,
    { touchSession: session.id, sighting },
  );
  // Read a moment ago, gone since (pruned, its account deleted): a token the server knew, not a guess.
  if (result.status === 'not_found') throw grantError('ERR_REFRESH_TOKEN_INVALID', GRANT_INVALID);
  if (result.status === 'session_ended' || result.session === undefined) return sessionEnded(deps, session);
  if (result.status === 'already_rotated') {
    return againWithinGrace(deps, refreshToken, result.token, session, client, result.session, now);
  }
  return { issued: successor, touched: result.session, rotated: true, sighted: sighting !== undefined };
}

/**
 * See {@link SessionService.sessionOfRefreshToken}: every refusal `refreshSession` would make of this token without a
 * CSRF header, DPoP proof or scope — the same reads, the same codes, the same reuse detection — and no rotation.
 */
export async function sessionOfRefreshToken(
  deps: SessionDeps,
  refreshToken: string,
  client: ClientInfo,
): Promise<Session> {
  const now = deps.clock();
  const state = await readState(deps, refreshToken, hashSecret(refreshToken), now, client, undefined, {});
  const { token: record, session } = state;
  // A rotated token is reuse unless the refresh would hand it its successor again (the immediately previous token,
  // within the grace window, its successor unused): the session ends here just as it would there. Answering
  // "live" instead would tell whoever holds a stolen, since-rotated copy that the session is worth attacking,
  // without the owner ever learning of it.
  if (
    record.rotatedAt !== null &&
    (await successorWithinGrace(deps, refreshToken, record, now)) === undefined
  ) {
    return endForReuse(deps, session, client, record.generation);
  }
  // The account disabled or its credentials changed since: the refresh would end the session with its reason.
  if (state.user === undefined) return sessionEnded(deps, session);
  return session;
}

/** See {@link SessionService.refresh}. */
export async function refreshSession(
  deps: SessionDeps,
  refreshToken: string,
  client: ClientInfo,
  fromCookie: { csrfHeader: string | undefined } | undefined,
  options: RefreshOptions = {},
): Promise<TokenPair> {
  const now = deps.clock();
  const hash = hashSecret(refreshToken);
  const state = await readState(deps, refreshToken, hash, now, client, fromCookie, options);
  const { token: record, session } = state;
  // A token rotated longer ago than the grace window is reuse whoever presents it, with or without a proof:
  // ended here, before the proof check, so a thief who bound a stolen family to their own key (below) cannot
  // hide the reuse behind the victim's missing proof.
  if (record.rotatedAt !== null && now - record.rotatedAt >= deps.settings.graceMs) {
    return endForReuse(deps, session, client, record.generation);
  }
  // A scope the session was not granted is refused before the token is spent: refused after, the client would
  // keep a spent token whose next use (past the grace window) ends the session as reuse.
  // (Only when a scope is asked for: the common refresh computes the grant once, in `pair`.)
  if (state.user !== undefined && options.scope !== undefined) {
    refuseWidening(deps.scopes.forUserOfClient(state.user.roles, state.clientScopes), options.scope);
  }
  // Only a rotation counts: a repeat within the grace window gets the successor already made.
  if (record.rotatedAt === null) await refuseOverLimit(deps, state, now);
  await checkProof(deps, session, options);
  const spent = await spend(deps, refreshToken, hash, state, client, now, options.sighting);
  const { issued, touched, rotated } = spent;
  // The touch proved the user active on the session's generation when it ran; the claims come from the user as
  // read with the token (a role change since is caught by the `ver` check of the token it yields).
  const user = state.user;
  if (user === undefined) return sessionEnded(deps, session);
  // Waiting for the user's cut-off second may outlast a logout-everywhere: then look at the session again.
  const live = (await deps.revocations.waitPastCutoff(user)) ? await stillLive(deps, session.id) : touched;
  const issuedPair = await pair(deps, user, live, issued, {
    narrowTo: options.scope,
    client: { scopes: state.clientScopes },
  });
  if (options.signals !== true) return issuedPair;
  return {
    ...issuedPair,
    signals: {
      sighting: state.sighting,
      rotations: state.rotations + (rotated ? 1 : 0),
      sighted: spent.sighted,
    },
  };
}
