/**
 * What this tab knows about its session, in memory only: the access token (memory and bearer modes), the refresh
 * token (bearer mode), the anti-CSRF token (cookie and memory modes) and the access token's expiry. Every change of
 * tokens bumps `generation`, which lets a request that failed with 401 see whether a refresh already happened.
 */

/** The session as one tab holds it. `expiresAt` is epoch ms on this machine's clock. */
export interface SessionSnapshot {
  expiresAt: number;
  accessToken?: string;
  refreshToken?: string;
  csrfToken?: string;
}

/** Mutable session holder. */
export interface SessionState {
  /** The current session, or undefined when signed out (or not yet known, in cookie mode). */
  readonly current: Readonly<SessionSnapshot> | undefined;
  /** Increases on every `set` and `clear`. */
  readonly generation: number;
  /** The anti-CSRF token, kept across `clear` only until the next sign-in (it is session-bound server-side). */
  csrfToken: string | undefined;
  set(snapshot: SessionSnapshot): void;
  clear(): void;
  /** True when there is a session whose access token is good for more than `marginMs`. */
  isFresh(now: number, marginMs: number): boolean;
}

/** Creates an empty state. */
export function createSessionState(): SessionState {
  let current: SessionSnapshot | undefined;
  let generation = 0;
  let csrfToken: string | undefined;
  return {
    get current() {
      return current;
    },
    get generation() {
      return generation;
    },
    get csrfToken() {
      return csrfToken;
    },
    set csrfToken(value) {
      csrfToken = value;
    },
    set(snapshot) {
      current = { ...snapshot };
      if (snapshot.csrfToken !== undefined) csrfToken = snapshot.csrfToken;
      generation++;
    },
    clear() {
      current = undefined;
      csrfToken = undefined;
      generation++;
    },
    isFresh(now, marginMs) {
      return current !== undefined && current.expiresAt - now > marginMs;
    },
  };
}
