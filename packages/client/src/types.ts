/**
 * Public types of `@jot/client`: options, delivery modes, the server's token and whoami responses, and the
 * typed session events.
 */
import type { Duration, SessionDelivery } from '@jot/contract';

import type { DeviceTokenStore } from './device-token-store.js';
import type { DPoPKeyStore } from './dpop-key-store.js';

/**
 * How the browser holds the session (see docs/browser.md):
 * - `cookie`: both tokens in HttpOnly cookies; scripts only see the anti-CSRF token.
 * - `memory`: the access token in this tab's memory, the refresh token in an HttpOnly cookie.
 * - `bearer`: both tokens in memory (Node services, CLIs, native apps). Never written to any storage (only the
 *   sign-in device credential is kept, see {@link ClientOptions.deviceTokens}).
 */
export type DeliveryMode = SessionDelivery;

/**
 * How the server keeps sessions alive (its `JOT_TOKEN_MODE`):
 * - `refresh`: a rotating refresh token (in the body or an HttpOnly cookie) buys new access tokens;
 * - `single`: there is no refresh token; the access token itself is renewed (`POST /api/token/renew`) before it
 *   expires. A page reload keeps the session in cookie mode only (memory mode has nothing left to renew with).
 */
export type TokenMode = 'refresh' | 'single';

/** The `fetch` signature the client needs (the global one, or a fake in tests). */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

/** The part of the Web Locks API the client uses (`navigator.locks`). */
export interface LocksLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

/** Options of {@link createClient}. Wrong options throw a `TypeError` when the client is created. */
export interface ClientOptions {
  /** Origin (and optional path prefix) of the Jot server; relative request paths are resolved against it. @default '' (same origin) */
  baseUrl?: string;
  /** Token delivery mode. */
  mode: DeliveryMode;
  /** The server's `JOT_TOKEN_MODE`: refresh tokens, or renewal of the access token. @default 'refresh' */
  tokenMode?: TokenMode;
  /**
   * Refresh (or renew) this long before the access token expires (at most half its lifetime): seconds, or a string
   * such as `'45s'`, `'2m'`. @default 30
   */
  refreshMargin?: Duration;
  /** The fetch to use. @default globalThis.fetch */
  fetch?: FetchLike;
  /**
   * Namespace of the cross-tab lock and BroadcastChannel names. No token is ever written to storage (bearer mode's
   * device credential is kept in `deviceTokens`). @default 'jot'
   */
  storageKey?: string;
  /**
   * DPoP (RFC 9449): `true` makes a non-extractable ES256 key (kept in IndexedDB in browsers, so it survives reloads)
   * and sends a proof with sign-in, refresh and every request to the server, so a token copied out of the page is
   * useless without the key. Not with `mode: 'cookie'`. @default false
   */
  dpop?: boolean | DPoPKeyStore;
  /**
   * Bearer mode: where the device credential each sign-in answers (`device_token`) is kept, one per account (with
   * the address it signs in with), to be sent on the next sign-ins — it keeps the account-wide sign-in lock that
   * others can set from locking this client out.
   * Not a session token: alone it signs no one in. IndexedDB in browsers, memory elsewhere (pass a store that
   * outlives the process to keep it across restarts); `false` keeps none. Not with the other modes, whose browser
   * keeps it in an HttpOnly cookie. @default defaultDeviceTokenStore()
   */
  deviceTokens?: DeviceTokenStore | false;
  /** Cross-tab lock manager; `null` turns cross-tab locking off. @default globalThis.navigator?.locks */
  locks?: LocksLike | null;
  /** Tell other tabs about refreshes and logouts over a BroadcastChannel. @default true when BroadcastChannel exists */
  broadcast?: boolean;
}

/** Why a session ended. */
export type SessionEndReason = 'logout' | 'logout-everywhere' | 'refresh-failed' | 'other-tab';

/** Payloads of the client's events. */
export interface SessionEvents {
  /** A session began in this tab: login, `resume()`, or a login in another tab. */
  'session:started': { expiresAt: number; source: 'local' | 'other-tab' };
  /** The access token was renewed, here or in another tab. */
  'session:refreshed': { expiresAt: number; source: 'local' | 'other-tab' };
  /** The session is over in this tab; sign the user out of the UI. */
  'session:ended': { reason: SessionEndReason };
  /**
   * A request was refused with a step-up challenge (RFC 9470 `insufficient_user_authentication`): the action needs
   * a recent password confirmation, `client.reauthenticate(password)`. `maxAge` is the challenge's `max_age` in
   * seconds, when the server sent it (and the browser let the page read the header); `acrValues` (`aal2`) asks
   * for a second factor, `client.stepUp(proof)`.
   */
  'session:step-up-required': { maxAge: number | undefined; acrValues: string | undefined };
}

/** A handler of one event. */
export type SessionEventHandler<E extends keyof SessionEvents> = (payload: SessionEvents[E]) => void;
