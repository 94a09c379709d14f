/**
 * Retrying a refresh that failed transiently (a network failure, 429, 5xx). The server may well have rotated the
 * refresh token and only its answer was lost: presented again within the server's grace window the old token gets
 * the same successor, later it is reuse and the whole session is revoked. So a transient failure — of a timer
 * refresh or of one a request started — re-arms the refresh timer with a short backoff instead of waiting for the
 * app's next request, until a refresh succeeds, is refused (which ends the session), or the client is closed. In
 * single-token mode the access token is the session: retries stop at its expiry.
 */
import { JotClientError } from './errors.js';
import type { RefreshTimer } from './refresh-timer.js';
import type { SessionState } from './session-state.js';
import type { TokenMode } from './types.js';

/** What a retrying refresh looks at. */
export interface RefreshRetryDeps {
  tokenMode: TokenMode;
  state: SessionState;
  timer: RefreshTimer;
  /** Changes whenever the session is ended locally or a new one starts. */
  epoch: () => number;
}

/**
 * A failure worth retrying: no answer at all, an answer that is not the server's (a proxy's or captive portal's page
 * instead of JSON: the server may have rotated the token, and its answer was lost on the way), 429 or 5xx.
 * `retryAfterMs` is the server's `Retry-After`, if any.
 */
export function transientFailure(err: unknown): { retryAfterMs: number | undefined } | undefined {
  if (!(err instanceof JotClientError)) return undefined;
  // A body that did not parse (errors.ts `jsonOf`); the server's own JSON with a bad field is not retried.
  const notJson = err.code === 'ERR_CLIENT_BAD_RESPONSE' && err.cause instanceof SyntaxError;
  const noAnswer = err.code === 'ERR_CLIENT_NETWORK' || notJson;
  if (!noAnswer && err.status !== 429 && err.status < 500) return undefined;
  return { retryAfterMs: err.retryAfter === undefined ? undefined : err.retryAfter * 1000 };
}

/**
 * Wraps one refresh (the one the single-flight runs, so a failure shared by many callers is counted once): a
 * transient failure re-arms the timer for a retry — unless the session changed meanwhile (ended, another sign-in,
 * another tab's refresh), which has its own timer or none. The failure is still thrown to the caller.
 */
export function retryOnTransientFailure(
  refresh: () => Promise<boolean>,
  { tokenMode, state, timer, epoch }: RefreshRetryDeps,
): () => Promise<boolean> {
  return async () => {
    const startedEpoch = epoch();
    const startedGeneration = state.generation;
    try {
      return await refresh();
    } catch (err) {
      const transient = transientFailure(err);
      const current = state.current;
      const unchanged = epoch() === startedEpoch && state.generation === startedGeneration;
      if (transient !== undefined && unchanged && current !== undefined) {
        // Single-token mode: an expired access token cannot be renewed, so there is nothing to retry after it.
        timer.retry(transient.retryAfterMs, tokenMode === 'single' ? current.expiresAt : Infinity);
      }
      throw err;
    }
  };
}
