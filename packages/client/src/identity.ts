/**
 * The client's requests that change who is signed in: sign-in (password, second step, passkey), re-authentication
 * of the signed-in user (password or second factor, RFC 9470 step-up), a password change and the confirmation of an
 * authenticator app (both answer with the session's new tokens), sign-out, and picking up a session after a page
 * load. Each adopts or ends the session through the client's lifecycle.
 */
import { ENDPOINTS, type WhoAmIResponse } from '@jot/contract';

import type { DeviceCredentials } from './device-tokens.js';
import { errorFromResponse, JotClientError, jsonOf } from './errors.js';
import { mfaRequiredFrom } from './mfa.js';
import type { RefreshTimer } from './refresh-timer.js';
import type { Senders } from './senders.js';
import type { SessionLifecycle } from './session-lifecycle.js';
import type { SessionState } from './session-state.js';
import { snapshotFrom } from './token-response.js';
import type { DeliveryMode, SessionEndReason, TokenMode } from './types.js';

/** The parts of a client these requests use. */
export interface ClientCore extends Senders, SessionLifecycle {
  mode: DeliveryMode;
  tokenMode: TokenMode;
  /** Cookie and memory modes: the session lives in cookies shared by the tabs. */
  usesCookie: boolean;
  state: SessionState;
  timer: RefreshTimer;
  /** The authenticating fetch. */
  authFetch: (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;
  /** The single-flight refresh. */
  refresh: () => Promise<boolean>;
  /** Bearer mode: the device credentials kept and presented at sign-in (undefined: the cookie has them, or none). */
  devices: DeviceCredentials | undefined;
}

/** A JSON `POST`. */
function jsonPost(body: unknown): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
}

/** JSON over the authenticating fetch: sends `body` as JSON, parses the answer, throws `JotClientError` on non-2xx. */
export async function requestJson<T>(
  core: ClientCore,
  path: string,
  init: { method?: string; body?: unknown } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await core.authFetch(path, {
      method: init.method ?? 'GET',
      ...(init.body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
    });
  } catch (cause) {
    // The authenticating fetch lets fetch's own failures through, as fetch does; this call promises a JotClientError.
    if (cause instanceof JotClientError) throw cause;
    throw new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause });
  }
  if (!res.ok) throw await errorFromResponse(res);
  if (res.status === 204) return undefined as T;
  return jsonOf<T>(res);
}

/**
 * A sign-in request (password, second step, passkey) for `account` (its address; undefined when unknown, a passkey):
 * `body` is built with the device credential to present, the session it answers with is adopted, and the device
 * credential it answers kept (bearer mode).
 */
export async function signIn(
  core: ClientCore,
  path: string,
  account: string | undefined,
  body: (deviceToken: string | undefined) => Record<string, unknown>,
): Promise<void> {
  const { devices } = core;
  const res = await core.send(path, jsonPost(body(await devices?.present(account))));
  if (!res.ok) {
    const mfa = await mfaRequiredFrom(res);
    // The second step keeps its credential for this address (the MFA token does not name it).
    if (mfa !== undefined && account !== undefined) devices?.awaitSecondStep(mfa.mfaToken, account);
    throw mfa ?? (await errorFromResponse(res));
  }
  core.state.csrfToken = undefined;
  const answer: unknown = await jsonOf(res);
  const snapshot = snapshotFrom(answer, core.mode, Date.now(), undefined, undefined, core.tokenMode);
  // A new session: a refresh of the previous one still in flight must not be applied to it (its tokens, or its
  // refusal ending this session in every tab).
  core.bumpEpoch();
  core.adopt(snapshot, 'session:started', 'local');
  await devices?.keep(account, answer);
}

/** WebAuthn request options for a passkey: the second sign-in step with `mfaToken`, else a passwordless sign-in. */
export async function passkeyOptions(core: ClientCore, mfaToken?: string): Promise<Record<string, unknown>> {
  const path = mfaToken === undefined ? ENDPOINTS.passkeyLoginOptions : ENDPOINTS.loginMfaPasskeyOptions;
  const res = await core.send(path, jsonPost(mfaToken === undefined ? {} : { mfa_token: mfaToken }));
  if (!res.ok) throw await errorFromResponse(res);
  return jsonOf<Record<string, unknown>>(res);
}

/** Options of {@link confirmIdentity}. */
export interface ConfirmOptions {
  /**
   * The answer carries the session's new refresh token and cuts off every earlier token (a password change): a
   * refresh still in flight is void, so its older tokens — or its refusal of the replaced refresh token — are never
   * applied over the answer's.
   */
  supersedes?: boolean;
}

/**
 * A request of the signed-in user that answers with this session's new tokens (re-authentication with the password
 * or a second factor, a password change, a confirmed authenticator app): the tokens are adopted like a refresh's.
 * Resolves the parsed answer (for its other members, such as recovery codes).
 */
export async function confirmIdentity(
  core: ClientCore,
  path: string,
  body: Record<string, unknown>,
  { supersedes = false }: ConfirmOptions = {},
): Promise<unknown> {
  const { state } = core;
  const noSession = (): JotClientError =>
    new JotClientError('ERR_CLIENT_NO_SESSION', 'there is no session to act for; sign in first');
  if (state.current === undefined) throw noSession();
  const started = core.epoch();
  let res: Response;
  try {
    // Through the authenticating fetch: the access token or the CSRF header, and one refresh on a 401 about the
    // token (a wrong code or password is thrown as it came, sent once).
    res = await core.authFetch(path, jsonPost(body));
  } catch (cause) {
    if (cause instanceof JotClientError) throw cause;
    throw new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause });
  }
  if (!res.ok) throw await errorFromResponse(res);
  const answer: unknown = await jsonOf(res);
  // Signed out while the proof was being checked: the answer must not sign this tab back in.
  if (core.epoch() !== started || state.current === undefined) throw noSession();
  const { csrfToken, current } = state;
  const snapshot = snapshotFrom(
    answer,
    core.mode,
    Date.now(),
    csrfToken,
    current.refreshToken,
    core.tokenMode,
  );
  if (supersedes) core.bumpEpoch();
  core.adopt(snapshot, 'session:refreshed', 'local');
  return answer;
}

/** Ends the session on the server, then locally (also when the server call fails, which is then thrown). */
export async function endOnServer(core: ClientCore, path: string, reason: SessionEndReason): Promise<void> {
  // The user chose to leave: no timer refresh may start now, and one already in flight must not sign us back in.
  core.timer.cancel();
  core.bumpEpoch();
  let failure: Error | undefined;
  try {
    const res = await core.authFetch(path, { method: 'POST' });
    if (!res.ok && res.status !== 401) failure = await errorFromResponse(res);
  } catch (err) {
    failure =
      err instanceof Error
        ? err
        : new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause: err });
  }
  core.end(reason, core.usesCookie);
  if (failure !== undefined) throw failure;
}

/** Picks up an existing session after a page load (cookie: `whoami`; cookie and memory: a refresh). */
export async function resume(core: ClientCore): Promise<boolean> {
  const { state, mode } = core;
  if (state.current !== undefined) return true;
  if (mode === 'bearer') return false;
  if (mode === 'cookie') {
    const res = await core.send(ENDPOINTS.whoami, { method: 'GET' });
    const who = res.ok ? await jsonOf<WhoAmIResponse>(res) : undefined;
    const exp = who?.claims.exp;
    if (who !== undefined && typeof exp === 'number' && Number.isFinite(exp) && exp > 0) {
      const snapshot = { expiresAt: exp * 1000, csrfToken: who.csrf_token ?? state.csrfToken };
      core.adopt(snapshot, 'session:started', 'local');
      return true;
    }
  }
  return core.refresh().catch(() => false);
}
