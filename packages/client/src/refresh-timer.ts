/**
 * The proactive refresh timer: fires `expires_in - margin` after a token arrives. The margin is capped at half the
 * token's lifetime, so a short-lived token (2 s in tests) is refreshed at mid-life instead of immediately — which
 * would otherwise be a refresh loop. Delays are clamped to what `setTimeout` can hold (2^31 − 1 ms, about 24.8
 * days; a longer delay fires at once): a timer that wakes while the token is still fresh re-arms instead of
 * refreshing. A refresh that failed transiently is retried (`retry`) after 1 s, then 2 s, then every 4 s — well
 * inside the server's refresh grace window (10 s by default), so a rotation whose answer was lost is retried while
 * the server still answers it with the same successor rather than as refresh-token reuse.
 */

/** The longest delay `setTimeout` honours; anything longer fires immediately. */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** Never refresh more often than this (a token already at its margin is renewed a second from now). */
const MIN_DELAY_MS = 1000;

/** The first retry of a refresh that failed transiently comes this long after the failure; each next one twice as long… */
export const RETRY_BASE_MS = 1000;
/** …up to this (also the most a `Retry-After` can hold a retry back). */
export const RETRY_CAP_MS = 4000;

/** The timer of one client. */
export interface RefreshTimer {
  /** (Re)arms the timer for a token expiring at `expiresAt` (epoch ms); a `RangeError` for a non-finite value. */
  schedule(expiresAt: number): void;
  cancel(): void;
  /**
   * Re-arms the timer to retry a refresh that failed transiently: after a backoff (1 s, doubling, at most
   * {@link RETRY_CAP_MS}), or after `retryAfterMs` when the server asked for longer (within the same cap). No retry
   * is armed when it would fire at or after `deadline` (epoch ms), or once closed; returns whether one was.
   * `schedule` (a new token) resets the backoff.
   */
  retry(retryAfterMs: number | undefined, deadline: number): boolean;
  /** Cancels and turns `schedule` into a no-op for good (the client was closed). */
  close(): void;
  /** The effective margin for the current token. */
  marginMs(current: { expiresAt: number } | undefined): number;
}

/** Creates the timer; `onFire` starts a refresh. */
export function createRefreshTimer(marginMs: number, onFire: () => void): RefreshTimer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let lifetimeMs = Infinity;
  let closed = false;
  /** Transient failures since the last token arrived. */
  let failures = 0;
  const effective = (): number => Math.min(marginMs, lifetimeMs / 2);

  function cancel(): void {
    if (handle !== undefined) clearTimeout(handle);
    handle = undefined;
  }

  function arm(fireAt: number): void {
    handle = setTimeout(
      () => wake(fireAt),
      Math.min(MAX_TIMEOUT_MS, Math.max(MIN_DELAY_MS, fireAt - Date.now())),
    );
    // In Node, a pending refresh must not keep a finished script alive.
    (handle as { unref?: () => void }).unref?.();
  }

  function wake(fireAt: number): void {
    handle = undefined;
    // Woken well before the refresh is due (a clamped delay, or the clock went back): the token is still fresh.
    if (fireAt - Date.now() > MIN_DELAY_MS) arm(fireAt);
    else onFire();
  }

  return {
    schedule(expiresAt) {
      if (!Number.isFinite(expiresAt))
        throw new RangeError('refresh timer: expiresAt must be a finite number');
      cancel();
      failures = 0;
      if (closed) return;
      lifetimeMs = Math.max(0, expiresAt - Date.now());
      arm(expiresAt - effective());
    },
    cancel,
    retry(retryAfterMs, deadline) {
      if (closed) return false;
      const backoff = RETRY_BASE_MS * 2 ** Math.min(failures, 8);
      const delay = Math.min(RETRY_CAP_MS, Math.max(backoff, retryAfterMs ?? 0));
      const fireAt = Date.now() + delay;
      if (fireAt >= deadline) return false;
      failures++;
      cancel();
      arm(fireAt);
      return true;
    },
    close() {
      closed = true;
      cancel();
    },
    marginMs: (current) => (current === undefined ? 0 : effective()),
  };
}
