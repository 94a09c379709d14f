/**
 * One refresh request, per mode: bearer sends its refresh token in the body; cookie and memory send `{}` with the
 * refresh cookie and `X-Csrf-Token` (fetching the CSRF token first when a reload lost it). In single-token mode the
 * access token itself is renewed instead (`POST /api/token/renew`, authenticated like any request: the token in
 * `Authorization`, or the access cookie with `X-Csrf-Token`); the server answers two renewals of one token within
 * its grace window with the same successor, so racing tabs cannot end the session. A refused refresh
 * (400/401/403) ends the session — in every tab, except when only this tab's DPoP proof was refused; a transient
 * failure (429, 5xx, network) throws and keeps it. An answer that
 * arrives after the session was ended locally (a sign-out while the refresh was in flight) or after a new session
 * started (a sign-in here or in another tab) is dropped: it must not sign the tab back in, nor replace or end the
 * new session.
 */
import { ENDPOINTS, HEADERS } from '@jot/contract';

import { errorFromResponse, jsonOf, type JotClientError } from './errors.js';
import type { SessionSnapshot, SessionState } from './session-state.js';
import { snapshotFrom } from './token-response.js';
import type { DeliveryMode, SessionEndReason, TokenMode } from './types.js';

/** What the refresh request needs from its client. */
export interface RefreshDeps {
  mode: DeliveryMode;
  tokenMode: TokenMode;
  state: SessionState;
  send: (path: string, init: RequestInit) => Promise<Response>;
  /** Sends a request authenticated with `accessToken` (memory and bearer modes; cookie mode sends the cookie). */
  sendAuthenticated: (path: string, init: RequestInit, accessToken: string | undefined) => Promise<Response>;
  adopt: (snapshot: SessionSnapshot, event: 'session:started' | 'session:refreshed', source: 'local') => void;
  end: (reason: SessionEndReason, broadcast: boolean) => void;
  /** Changes whenever the session is ended locally or a new one starts; a refresh started in another epoch is void. */
  epoch: () => number;
}

/**
 * The anti-CSRF token, fetched with the refresh cookie when this tab lost it (a reload); undefined when the server
 * refuses (no session). A transient failure (network, 429, 5xx) throws, like a refresh's: it says nothing about
 * the session, which is kept.
 */
async function fetchCsrfToken({ state, send }: RefreshDeps): Promise<string | undefined> {
  if (state.csrfToken !== undefined) return state.csrfToken;
  const res = await send(ENDPOINTS.refreshCsrf, { method: 'GET' });
  if (res.status === 429 || res.status >= 500) throw await errorFromResponse(res);
  if (!res.ok) return undefined;
  const body = await jsonOf<{ csrf_token?: unknown }>(res);
  if (typeof body.csrf_token === 'string') state.csrfToken = body.csrf_token;
  return state.csrfToken;
}

async function refreshNow(deps: RefreshDeps): Promise<boolean> {
  const { mode, state, epoch } = deps;
  const started = epoch();
  const stale = (): boolean => epoch() !== started;
  const wasSignedIn = state.current !== undefined;
  if (deps.tokenMode === 'single') return renewNow(deps, stale, wasSignedIn);
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  let body = '{}';
  if (mode === 'bearer') {
    const refreshToken = state.current?.refreshToken;
    if (refreshToken === undefined) return false;
    body = JSON.stringify({ refresh_token: refreshToken });
  } else {
    const csrf = await fetchCsrfToken(deps);
    if (stale()) return false;
    if (csrf === undefined) {
      if (wasSignedIn) deps.end('refresh-failed', true);
      return false;
    }
    headers[HEADERS.csrf] = csrf;
  }
  const res = await deps.send(ENDPOINTS.refresh, { method: 'POST', headers, body });
  return settle(deps, res, stale, wasSignedIn);
}

/** Single-token mode: renews the current access token; without one (a reload in memory mode) there is none. */
async function renewNow(deps: RefreshDeps, stale: () => boolean, wasSignedIn: boolean): Promise<boolean> {
  if (!wasSignedIn) return false;
  const headers: Record<string, string> = {};
  const accessToken = deps.state.current?.accessToken;
  if (deps.mode === 'cookie') {
    const csrf = await fetchCsrfToken(deps);
    if (stale()) return false;
    if (csrf === undefined) {
      deps.end('refresh-failed', true);
      return false;
    }
    headers[HEADERS.csrf] = csrf;
  } else if (accessToken === undefined) {
    return false;
  }
  const res = await deps.sendAuthenticated(ENDPOINTS.renew, { method: 'POST', headers }, accessToken);
  return settle(deps, res, stale, wasSignedIn);
}

/** Adopts a successful answer; ends the session on a refusal; throws for a transient failure. */
async function settle(
  { mode, tokenMode, state, adopt, end }: RefreshDeps,
  res: Response,
  stale: () => boolean,
  wasSignedIn: boolean,
): Promise<boolean> {
  if (stale()) return false;
  if (res.ok) {
    const snapshot = snapshotFrom(await jsonOf(res), mode, Date.now(), state.csrfToken, undefined, tokenMode);
    if (stale()) return false;
    adopt(snapshot, wasSignedIn ? 'session:refreshed' : 'session:started', 'local');
    return true;
  }
  // 400/401/403: the refresh token is spent, revoked or missing — the session is over. Other statuses (429,
  // 5xx) are transient: keep the session, and the timer retries (refresh-retry.ts).
  if (res.status === 400 || res.status === 401 || res.status === 403) {
    const refusal = await errorFromResponse(res);
    if (stale()) return false;
    end('refresh-failed', mode !== 'bearer' && !isDPoPProofRefusal(refusal));
    return false;
  }
  throw await errorFromResponse(res);
}

/**
 * A refusal of this tab's DPoP proof (`invalid_dpop_proof`: a key that is not the session's, a clock far off, …).
 * The server checks the proof before it spends the refresh token, so the session is intact for the tabs that hold
 * its key: this tab is signed out, the others are not told to end it.
 */
function isDPoPProofRefusal(refusal: JotClientError): boolean {
  return refusal.status === 400 && refusal.error === 'invalid_dpop_proof';
}

/** The CSRF bootstrap and the refresh itself (not single-flight: wrap it with `createSingleFlight`). */
export function createRefreshRequest(deps: RefreshDeps): {
  csrfToken: () => Promise<string | undefined>;
  refreshNow: () => Promise<boolean>;
} {
  return { csrfToken: () => fetchCsrfToken(deps), refreshNow: () => refreshNow(deps) };
}
