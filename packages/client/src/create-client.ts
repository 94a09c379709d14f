/**
 * `createClient`: sign in, sign out, and a `fetch` that authenticates requests to the Jot server and keeps the
 * session alive — a timer refreshes (in single-token mode: renews the access token) before expiry, a 401 about the
 * access token triggers one refresh and one retry (any other 401 is returned as it came), refreshes are single-flight within a tab and serialised across tabs, and
 * sign-in/refresh/sign-out are broadcast to the other tabs. A step-up challenge (RFC 9470) is not refreshed: it is announced, and `reauthenticate` answers it. Tokens
 * live in memory only; nothing is written to localStorage or sessionStorage (bearer mode keeps only the sign-in
 * device credential, in its `deviceTokens` store).
 */
import {
  durationOptionMs,
  ENDPOINTS,
  isSessionDelivery,
  refuseRenamedOptions,
  type WhoAmIResponse,
} from '@jot/contract';

import { changePassword, confirmTotp, type TotpConfirmation } from './account.js';
import { createAuthFetch } from './auth-fetch.js';
import { defaultDeviceTokenStore, type DeviceTokenStore } from './device-token-store.js';
import { createDeviceCredentials, deviceAccount } from './device-tokens.js';
import { createDPoPSigner, type DPoPSigner } from './dpop.js';
import { createEmitter, type Emitter } from './emitter.js';
import {
  confirmIdentity,
  endOnServer,
  passkeyOptions,
  requestJson,
  resume,
  signIn,
  type ClientCore,
} from './identity.js';
import { mfaSignInBody, proofFields, type MfaProof, type PasskeyCredentialJSON } from './mfa.js';
import { createRefreshRequest } from './refresh-request.js';
import { retryOnTransientFailure } from './refresh-retry.js';
import { loginBody, passkeyLoginBody, reauthBody } from './session-bodies.js';
import { createRefreshTimer } from './refresh-timer.js';
import { createSenders } from './senders.js';
import { createSessionLifecycle } from './session-lifecycle.js';
import { createSessionState } from './session-state.js';
import { createSingleFlight } from './single-flight.js';
import { openTabChannel, type TabChannel } from './tab-channel.js';
import { createTransport } from './transport.js';
import type { ClientOptions, LocksLike, SessionEventHandler, SessionEvents, TokenMode } from './types.js';

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
  /**
   * `POST /api/password`: changes the signed-in user's password, and this session goes on with the tokens of the
   * answer (a new refresh token; every earlier token stops working, every other session ends) — also in the other
   * tabs (`session:refreshed`). A refresh still in flight is voided. In bearer mode the answer's fresh device
   * credential is kept (the change ended the earlier ones). Throws a `JotClientError`:
   * `ERR_INVALID_CREDENTIALS` (403) for a wrong current password, `ERR_WEAK_PASSWORD` (400), `ERR_STEP_UP_REQUIRED`
   * (401) when the account has a second factor and needs a fresh `stepUp`, `ERR_CLIENT_NO_SESSION` when signed out.
   */
  changePassword(currentPassword: string, newPassword: string): Promise<void>;
  /**
   * `POST /api/mfa/totp/confirm`: confirms the authenticator app being set up (`factor_id` of `POST /api/mfa/totp`,
   * which `json()` starts) with its first code, and adopts the answer's tokens (this session at the multi-factor
   * level) like a refresh. Resolves the recovery codes when this is the account's first factor — show them once.
   */
  confirmTotp(factorId: string, code: string): Promise<TotpConfirmation>;
  /** `fetch` with authentication for requests to the Jot server; other URLs pass through untouched. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>;
  /** JSON convenience over {@link JotClient.fetch}: sends `body` as JSON, parses the answer, throws `JotClientError` on non-2xx. */
  json<T>(path: string, init?: { method?: string; body?: unknown }): Promise<T>;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof SessionEvents>(event: E, handler: SessionEventHandler<E>): () => void;
  /** Stops timers and closes the cross-tab channel (the session itself is left alone); no session events follow. */
  close(): void;
}

function defaultLocks(): LocksLike | null {
  const nav = (globalThis as { navigator?: { locks?: LocksLike } }).navigator;
  return nav?.locks ?? null;
}

/** The validated options (`TypeError` on misuse). */
interface Settings {
  mode: ClientOptions['mode'];
  tokenMode: TokenMode;
  marginMs: number;
  /** Prefix of the tab channel and the refresh lock. */
  key: string;
  dpop: DPoPSigner | undefined;
  /** Bearer mode: where the device credentials are kept (undefined: not kept). */
  deviceTokens: DeviceTokenStore | undefined;
}

function checkOptions(options: ClientOptions): Settings {
  const { mode } = options;
  if (!isSessionDelivery(mode)) {
    throw new TypeError("createClient: mode must be 'cookie', 'memory' or 'bearer'");
  }
  const tokenMode = options.tokenMode ?? 'refresh';
  if (tokenMode !== 'refresh' && tokenMode !== 'single') {
    throw new TypeError("createClient: tokenMode must be 'refresh' or 'single'");
  }
  refuseRenamedOptions(options, 'createClient', { refreshMarginSeconds: 'refreshMargin' });
  const marginMs = durationOptionMs(options.refreshMargin ?? 30, 'createClient', 'refreshMargin');
  if (options.dpop !== undefined && options.dpop !== false && mode === 'cookie') {
    throw new TypeError(
      "createClient: dpop needs mode 'memory' or 'bearer' (a proof must cover a token the page holds)",
    );
  }
  const dpop =
    options.dpop === undefined || options.dpop === false
      ? undefined
      : createDPoPSigner(options.dpop === true ? undefined : options.dpop);
  if (options.deviceTokens !== undefined && options.deviceTokens !== false && mode !== 'bearer') {
    throw new TypeError(
      "createClient: deviceTokens needs mode 'bearer' (the other modes keep the device credential in its HttpOnly cookie)",
    );
  }
  const deviceTokens =
    mode !== 'bearer' || options.deviceTokens === false
      ? undefined
      : (options.deviceTokens ?? defaultDeviceTokenStore());
  return { mode, tokenMode, marginMs, key: options.storageKey ?? 'jot', dpop, deviceTokens };
}

/** A client's parts, wired together: the session, its timer and tab channel, the senders, refresh and fetch. */
function createClientCore(
  options: ClientOptions,
  { mode, tokenMode, marginMs, key, dpop, deviceTokens }: Settings,
): ClientCore & { events: Emitter; channel: TabChannel } {
  const state = createSessionState();
  const events = createEmitter();
  const transport = createTransport(options.baseUrl ?? '', options.fetch);
  const usesCookie = mode !== 'bearer';
  // Bearer mode sends no cookie to another origin: its session and device credential travel in the body.
  const credentials: RequestCredentials = usesCookie ? 'include' : 'same-origin';
  // A transient failure is not dropped here: `retryOnTransientFailure` has re-armed the timer for a retry.
  const timer = createRefreshTimer(marginMs, () => {
    refresh().catch(() => undefined);
  });
  const lifecycle = createSessionLifecycle({ mode, state, events, timer, post: (m) => channel.post(m) });
  // Bearer tabs each hold their own session; only cookie-backed sessions are shared between tabs.
  const channel = openTabChannel(`${key}:session`, (options.broadcast ?? true) && usesCookie, (m) =>
    lifecycle.onTabMessage(m),
  );
  const senders = createSenders({ mode, transport, credentials, dpop });
  const isFresh = (): boolean => state.isFresh(Date.now(), timer.marginMs(state.current));
  const { csrfToken, refreshNow } = createRefreshRequest({
    mode,
    tokenMode,
    state,
    ...senders,
    ...lifecycle,
  });
  const refresh = createSingleFlight({
    lockName: `${key}:refresh`,
    locks: options.locks === undefined ? defaultLocks() : options.locks,
    generation: () => state.generation,
    isFresh,
    heard: () => channel.heard(),
    refresh: retryOnTransientFailure(refreshNow, { tokenMode, state, timer, epoch: () => lifecycle.epoch() }),
  });
  const authFetch = createAuthFetch({
    mode,
    transport,
    state,
    credentials,
    csrfToken,
    refresh,
    dpop,
    isStale: () => state.current !== undefined && !isFresh(),
    onStepUp: ({ maxAge, acrValues }) => events.emit('session:step-up-required', { maxAge, acrValues }),
  });
  const server = transport.resolve('/').href;
  const devices = deviceTokens === undefined ? undefined : createDeviceCredentials(deviceTokens, server);
  const core = { ...senders, ...lifecycle, mode, tokenMode, usesCookie, state, timer, authFetch, refresh };
  return { ...core, devices, events, channel };
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
  const core = createClientCore(options, checkOptions(options));
  const { mode, state } = core;
  const json = <T>(path: string, init?: { method?: string; body?: unknown }): Promise<T> =>
    requestJson<T>(core, path, init);
  const reissue = async (path: string, body: Record<string, unknown>): Promise<void> => {
    await confirmIdentity(core, path, body);
  };
  return {
    mode,
    get signedIn() {
      return state.current !== undefined;
    },
    get expiresAt() {
      return state.current?.expiresAt;
    },
    login: (email, password) =>
      signIn(core, ENDPOINTS.login, deviceAccount(email), (device) =>
        loginBody(email, password, mode, device),
      ),
    completeMfa: (mfaToken, proof) =>
      signIn(core, ENDPOINTS.loginMfa, core.devices?.accountOf(mfaToken), (device) =>
        mfaSignInBody(mfaToken, proof, device),
      ),
    passkeyOptions: (mfaToken) => passkeyOptions(core, mfaToken),
    loginWithPasskey: (credential) =>
      signIn(core, ENDPOINTS.passkeyLogin, undefined, (device) => passkeyLoginBody(credential, mode, device)),
    stepUp: (proof) => reissue(ENDPOINTS.mfaStepUp, proofFields(proof)),
    stepUpPasskeyOptions: () =>
      json<Record<string, unknown>>(ENDPOINTS.mfaStepUpPasskeyOptions, { method: 'POST', body: {} }),
    resume: () => resume(core),
    logout: () => endOnServer(core, ENDPOINTS.logout, 'logout'),
    logoutEverywhere: () => endOnServer(core, ENDPOINTS.logoutAll, 'logout-everywhere'),
    reauthenticate: (password) => reissue(ENDPOINTS.reauth, reauthBody(password)),
    changePassword: (currentPassword, newPassword) => changePassword(core, currentPassword, newPassword),
    confirmTotp: (factorId, code) => confirmTotp(core, factorId, code),
    async whoami() {
      const who = await json<WhoAmIResponse>(ENDPOINTS.whoami);
      if (typeof who.csrf_token === 'string') state.csrfToken = who.csrf_token;
      return who;
    },
    fetch: core.authFetch,
    json,
    on: (event, handler) => core.events.on(event, handler),
    close() {
      core.close();
      core.timer.close();
      core.channel.close();
    },
  };
}
