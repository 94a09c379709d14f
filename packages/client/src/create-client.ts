/**
 * `createClient`: sign in, sign out, and a `fetch` that authenticates requests to the Jot server and keeps the
 * session alive — a timer refreshes (in single-token mode: renews the access token) before expiry, a 401 triggers
 * one refresh and one retry, refreshes are single-flight within a tab and serialised across tabs, and
 * sign-in/refresh/sign-out are broadcast to the other tabs. A step-up challenge (RFC 9470) is not refreshed: it is announced, and `reauthenticate` answers it. Tokens
 * live in memory only; nothing is written to localStorage or sessionStorage.
 */
import { ENDPOINTS, type WhoAmIResponse } from '@jot/contract';

import { createDPoPSigner } from './dpop.js';
import { createEmitter } from './emitter.js';
import { errorFromResponse, JotClientError } from './errors.js';
import { createSessionState } from './session-state.js';
import { createSingleFlight } from './single-flight.js';
import { openTabChannel, type TabMessage } from './tab-channel.js';
import { snapshotFrom } from './token-response.js';
import { createTransport } from './transport.js';
import { createAuthFetch } from './auth-fetch.js';
import { createRefreshRequest } from './refresh-request.js';
import { createRefreshTimer } from './refresh-timer.js';
import { mfaRequiredFrom, proofFields, type MfaProof, type PasskeyCredentialJSON } from './mfa.js';
import type {
  ClientOptions,
  LocksLike,
  SessionEndReason,
  SessionEventHandler,
  SessionEvents,
} from './types.js';

/** A Jot client; see {@link createClient}. */
export interface JotClient {
  /** The delivery mode this client was created with. */
  readonly mode: ClientOptions['mode'];
  /** True while this tab holds a session it knows of. */
  readonly signedIn: boolean;
  /** Epoch ms when the current access token expires, if known. */
  readonly expiresAt: number | undefined;
  /**
   * Signs in; throws a `JotClientError` (`ERR_INVALID_CREDENTIALS`, `ERR_USER_DISABLED`, …) on failure, and a
   * `JotMfaRequiredError` (`isMfaRequired(err)`) when the account has a second factor: finish with `completeMfa`.
   */
  login(email: string, password: string): Promise<void>;
  /** Second sign-in step: the MFA token of `JotMfaRequiredError` and a code, recovery code or passkey assertion. */
  completeMfa(mfaToken: string, proof: MfaProof): Promise<void>;
  /**
   * WebAuthn request options (`PublicKeyCredentialRequestOptionsJSON`) for a passkey: for the second step of the
   * sign-in with `mfaToken`, else for a passwordless sign-in. Pass them to `startAuthentication`.
   */
  passkeyOptions(mfaToken?: string): Promise<Record<string, unknown>>;
  /** Passwordless sign-in with the assertion `startAuthentication` returned for `passkeyOptions()`. */
  loginWithPasskey(credential: PasskeyCredentialJSON): Promise<void>;
  /**
   * Step-up with a second factor (RFC 9470 `acr_values="aal2"`): `POST /api/mfa/step-up`, then the new access
   * token (fresh `auth_time`, `acr` aal2) is adopted like a refresh. Retry the refused request afterwards.
   */
  stepUp(proof: MfaProof): Promise<void>;
  /** WebAuthn request options for a step-up with one of the signed-in user's passkeys. */
  stepUpPasskeyOptions(): Promise<Record<string, unknown>>;
  /** Picks up an existing session after a page load (cookie and memory modes); resolves whether there is one. */
  resume(): Promise<boolean>;
  /** Ends this session on the server and in every tab. Local state is cleared even when the server call fails. */
  logout(): Promise<void>;
  /** Ends every session of the user (all devices), then signs this tab and the others out. */
  logoutEverywhere(): Promise<void>;
  /** `GET /api/whoami`: the verified claims and the profile. */
  whoami(): Promise<WhoAmIResponse>;
  /**
   * Step-up (RFC 9470): confirms the signed-in user's password with `POST /api/reauth` and adopts the new access
   * token (fresh `auth_time`) like a refresh — `session:refreshed`, also in the other tabs. Answers a step-up
   * challenge ({@link isStepUpRequired}, `session:step-up-required`); retry the refused request afterwards.
   * Throws a `JotClientError`: `ERR_INVALID_CREDENTIALS` (403) for a wrong password, `ERR_CLIENT_NO_SESSION` when
   * signed out (or signed out meanwhile).
   */
  reauthenticate(password: string): Promise<void>;
  /** `fetch` with authentication for requests to the Jot server; other URLs pass through untouched. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** JSON convenience over {@link JotClient.fetch}: sends `body` as JSON, parses the answer, throws `JotClientError` on non-2xx. */
  json<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof SessionEvents>(event: E, handler: SessionEventHandler<E>): () => void;
  /** Stops timers and closes the cross-tab channel (the session itself is left alone). */
  close(): void;
}

function defaultLocks(): LocksLike | null {
  const nav = (globalThis as { navigator?: { locks?: LocksLike } }).navigator;
  return nav?.locks ?? null;
}

/**
 * Creates a client. Wrong options throw a `TypeError` here, once.
 *
 * @example
 * const jot = createClient({ mode: 'cookie' });
 * await jot.login(email, password);
 * const res = await jot.fetch('/api/sessions');
 */
export function createClient(options: ClientOptions): JotClient {
  const { mode } = options;
  if (mode !== 'cookie' && mode !== 'memory' && mode !== 'bearer') {
    throw new TypeError("createClient: mode must be 'cookie', 'memory' or 'bearer'");
  }
  const tokenMode = options.tokenMode ?? 'refresh';
  if (tokenMode !== 'refresh' && tokenMode !== 'single') {
    throw new TypeError("createClient: tokenMode must be 'refresh' or 'single'");
  }
  const marginSeconds = options.refreshMarginSeconds ?? 30;
  if (!Number.isFinite(marginSeconds) || marginSeconds < 0) {
    throw new TypeError('createClient: refreshMarginSeconds must be a non-negative number');
  }
  const key = options.storageKey ?? 'jot';
  const transport = createTransport(options.baseUrl ?? '', options.fetch);
  if (options.dpop !== undefined && options.dpop !== false && mode === 'cookie') {
    throw new TypeError(
      "createClient: dpop needs mode 'memory' or 'bearer' (a proof must cover a token the page holds)",
    );
  }
  const dpop =
    options.dpop === undefined || options.dpop === false
      ? undefined
      : createDPoPSigner(options.dpop === true ? undefined : options.dpop);
  const state = createSessionState();
  const events = createEmitter();
  const usesCookie = mode !== 'bearer';
  const credentials: RequestCredentials = usesCookie ? 'include' : 'same-origin';
  // Bearer tabs each hold their own session; only cookie-backed sessions are shared between tabs.
  const channel = openTabChannel(`${key}:session`, (options.broadcast ?? true) && usesCookie, onTabMessage);

  // Bumped by every local end of the session: a refresh answer from an earlier epoch is dropped, so a sign-out
  // during an in-flight refresh stays a sign-out. `closed`: after close() nothing is adopted or scheduled.
  let epoch = 0;
  let closed = false;

  const timer = createRefreshTimer(marginSeconds * 1000, () => {
    refresh().catch(() => undefined);
  });
  const marginFor = (): number => timer.marginMs(state.current);

  const refresh = createSingleFlight({
    lockName: `${key}:refresh`,
    locks: options.locks === undefined ? defaultLocks() : options.locks,
    generation: () => state.generation,
    isFresh: () => state.isFresh(Date.now(), marginFor()),
    refresh: () => refreshNow(),
  });

  function adopt(
    snapshot: Parameters<typeof state.set>[0],
    event: 'session:started' | 'session:refreshed',
    source: 'local' | 'other-tab',
  ): void {
    if (closed) return;
    if (!Number.isFinite(snapshot.expiresAt) || snapshot.expiresAt <= 0) {
      throw new JotClientError('ERR_CLIENT_BAD_RESPONSE', 'the session has no valid expiry');
    }
    state.set(snapshot);
    timer.schedule(snapshot.expiresAt);
    events.emit(event, { expiresAt: snapshot.expiresAt, source });
    if (source === 'local') {
      channel.post({
        type: event === 'session:started' ? 'started' : 'refreshed',
        expiresAt: snapshot.expiresAt,
        ...(mode === 'memory' && snapshot.accessToken !== undefined
          ? { accessToken: snapshot.accessToken }
          : {}),
        ...(snapshot.csrfToken !== undefined ? { csrfToken: snapshot.csrfToken } : {}),
      });
    }
  }

  function end(reason: SessionEndReason, broadcast: boolean): void {
    epoch++;
    const had = state.current !== undefined;
    state.clear();
    timer.cancel();
    if (broadcast) channel.post({ type: 'ended' });
    if (had || reason === 'logout' || reason === 'logout-everywhere')
      events.emit('session:ended', { reason });
  }

  function onTabMessage(message: TabMessage): void {
    if (closed) return;
    if (message.type === 'ended') {
      if (state.current !== undefined) end('other-tab', false);
      return;
    }
    const snapshot = {
      expiresAt: message.expiresAt,
      accessToken: message.accessToken,
      csrfToken: message.csrfToken ?? state.csrfToken,
    };
    if (mode === 'memory' && snapshot.accessToken === undefined) return;
    adopt(snapshot, state.current === undefined ? 'session:started' : 'session:refreshed', 'other-tab');
  }

  const { csrfToken, refreshNow } = createRefreshRequest({
    mode,
    tokenMode,
    state,
    send,
    sendAuthenticated,
    adopt,
    end,
    epoch: () => epoch,
  });
  const authFetch = createAuthFetch({
    mode,
    transport,
    state,
    credentials,
    csrfToken,
    refresh,
    isStale: () => state.current !== undefined && !state.isFresh(Date.now(), marginFor()),
    dpop,
    onStepUp: ({ maxAge, acrValues }) => events.emit('session:step-up-required', { maxAge, acrValues }),
  });

  async function send(path: string, init: RequestInit): Promise<Response> {
    try {
      const url = transport.resolve(path).href;
      if (dpop === undefined) return await transport.fetch(url, { credentials, ...init });
      // Sign-in, refresh: the proof binds (or proves) the session's key; no access token goes along.
      return await dpop.send(new Request(url, { credentials, ...init }), undefined, (r) =>
        transport.fetch(r),
      );
    } catch (cause) {
      throw new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause });
    }
  }

  /** A request to the server with the access token (memory, bearer; with its DPoP proof) or the access cookie. */
  async function sendAuthenticated(
    path: string,
    init: RequestInit,
    accessToken: string | undefined,
  ): Promise<Response> {
    try {
      const request = new Request(transport.resolve(path).href, { credentials, ...init });
      if (mode !== 'cookie' && accessToken !== undefined)
        request.headers.set('authorization', `${dpop === undefined ? 'Bearer' : 'DPoP'} ${accessToken}`);
      if (dpop === undefined) return await transport.fetch(request);
      return await dpop.send(request, accessToken, (r) => transport.fetch(r));
    } catch (cause) {
      throw new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause });
    }
  }

  async function json<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
    const res = await authFetch(path, {
      method: init.method ?? 'GET',
      ...(init.body === undefined
        ? {}
        : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(init.body) }),
    });
    if (!res.ok) throw await errorFromResponse(res);
    if (res.status === 204) return undefined as T;
    return (await res.json()) as T;
  }

  async function endOnServer(path: string, reason: SessionEndReason): Promise<void> {
    // The user chose to leave: no timer refresh may start now, and one already in flight must not sign us back in.
    timer.cancel();
    epoch++;
    let failure: Error | undefined;
    try {
      const res = await authFetch(path, { method: 'POST' });
      if (!res.ok && res.status !== 401) failure = await errorFromResponse(res);
    } catch (err) {
      failure =
        err instanceof Error
          ? err
          : new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause: err });
    }
    end(reason, usesCookie);
    if (failure !== undefined) throw failure;
  }

  /** A sign-in request (password, second step, passkey): the session it answers with is adopted. */
  async function signIn(path: string, body: Record<string, unknown>): Promise<void> {
    const res = await send(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw (await mfaRequiredFrom(res)) ?? (await errorFromResponse(res));
    state.csrfToken = undefined;
    adopt(
      snapshotFrom(await res.json(), mode, Date.now(), undefined, undefined, tokenMode),
      'session:started',
      'local',
    );
  }

  /** Re-authentication of the signed-in user (password or second factor): the fresher token is adopted. */
  async function confirmIdentity(path: string, body: Record<string, unknown>): Promise<void> {
    const noSession = (): JotClientError =>
      new JotClientError('ERR_CLIENT_NO_SESSION', 'there is no session to re-authenticate; sign in first');
    if (state.current === undefined) throw noSession();
    const started = epoch;
    let res: Response;
    try {
      // Through the authenticating fetch: the access token or the CSRF header, and one refresh on a plain 401.
      res = await authFetch(path, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch (cause) {
      if (cause instanceof JotClientError) throw cause;
      throw new JotClientError('ERR_CLIENT_NETWORK', 'the server could not be reached', { cause });
    }
    if (!res.ok) throw await errorFromResponse(res);
    const answer: unknown = await res.json();
    // Signed out while the proof was being checked: the answer must not sign this tab back in.
    if (epoch !== started || state.current === undefined) throw noSession();
    const snapshot = snapshotFrom(
      answer,
      mode,
      Date.now(),
      state.csrfToken,
      state.current.refreshToken,
      tokenMode,
    );
    adopt(snapshot, 'session:refreshed', 'local');
  }

  return {
    mode,
    get signedIn() {
      return state.current !== undefined;
    },
    get expiresAt() {
      return state.current?.expiresAt;
    },
    login: (email, password) => signIn(ENDPOINTS.login, { email, password, delivery: mode }),
    completeMfa: (mfaToken, proof) =>
      signIn(ENDPOINTS.loginMfa, { mfa_token: mfaToken, ...proofFields(proof) }),
    async passkeyOptions(mfaToken) {
      const res = await send(
        mfaToken === undefined ? ENDPOINTS.passkeyLoginOptions : ENDPOINTS.loginMfaPasskeyOptions,
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(mfaToken === undefined ? {} : { mfa_token: mfaToken }),
        },
      );
      if (!res.ok) throw await errorFromResponse(res);
      return (await res.json()) as Record<string, unknown>;
    },
    loginWithPasskey: (credential) => signIn(ENDPOINTS.passkeyLogin, { credential, delivery: mode }),
    stepUp: (proof) => confirmIdentity(ENDPOINTS.mfaStepUp, proofFields(proof)),
    stepUpPasskeyOptions: () =>
      json<Record<string, unknown>>(ENDPOINTS.mfaStepUpPasskeyOptions, { method: 'POST', body: {} }),
    async resume() {
      if (state.current !== undefined) return true;
      if (mode === 'bearer') return false;
      if (mode === 'cookie') {
        const res = await send(ENDPOINTS.whoami, { method: 'GET' });
        const who = res.ok ? ((await res.json()) as WhoAmIResponse) : undefined;
        const exp = who?.claims.exp;
        if (who !== undefined && typeof exp === 'number' && Number.isFinite(exp) && exp > 0) {
          adopt(
            { expiresAt: exp * 1000, csrfToken: who.csrf_token ?? state.csrfToken },
            'session:started',
            'local',
          );
          return true;
        }
      }
      return refresh().catch(() => false);
    },
    logout: () => endOnServer(ENDPOINTS.logout, 'logout'),
    logoutEverywhere: () => endOnServer(ENDPOINTS.logoutAll, 'logout-everywhere'),
    reauthenticate: (password) => confirmIdentity(ENDPOINTS.reauth, { password }),
    async whoami() {
      const who = await json<WhoAmIResponse>(ENDPOINTS.whoami);
      if (typeof who.csrf_token === 'string') state.csrfToken = who.csrf_token;
      return who;
    },
    fetch: authFetch,
    json,
    on(event, handler) {
      return events.on(event, handler);
    },
    close() {
      closed = true;
      timer.close();
      channel.close();
    },
  };
}
