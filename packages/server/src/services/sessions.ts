/**
 * Sessions and their tokens: sign-in, refresh-token rotation with reuse detection and a grace window, single-token
 * renewal, and the token pair every flow returns. Each flow lives in its own file under `sessions/`; this factory
 * hands them the same dependencies.
 */
import { sessionOfPrunedToken } from './sessions/pruned-tokens.js';
import { refreshSession, sessionOfRefreshToken } from './sessions/refresh.js';
import { reissueTokens } from './sessions/reissue.js';
import { renewToken } from './sessions/renew.js';
import { startSession } from './sessions/start.js';
import type { SessionDeps, SessionService } from './sessions/types.js';

export { isSessionLive, isUnknownRefreshToken, renewalRevokes } from './sessions/rules.js';
export type {
  ClientInfo,
  DPoPProofCheck,
  RefreshSignals,
  RefreshOptions,
  ReissueOptions,
  SessionDeps,
  SessionService,
  SessionSettings,
  StartOptions,
  TokenPair,
} from './sessions/types.js';

/** Builds the session service. */
export function createSessionService(deps: SessionDeps): SessionService {
  return {
    start: (user, client, options) => startSession(deps, user, client, options),
    refresh: (token, client, fromCookie, options) => refreshSession(deps, token, client, fromCookie, options),
    sessionOfRefreshToken: (token, client) => sessionOfRefreshToken(deps, token, client),
    sessionOfPrunedRefreshToken: (token) => sessionOfPrunedToken(deps, token),
    renew: (presented, client) => renewToken(deps, presented, client),
    reissue: (sessionId, options) => reissueTokens(deps, sessionId, options),
  };
}
