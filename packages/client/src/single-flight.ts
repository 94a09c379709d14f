/**
 * Refresh coordination — the classic bug is N requests that all see an expired token and each spend the refresh
 * token. Within a tab, every caller shares one promise. Across tabs, the refresh runs under a Web Lock, and the tab
 * that refreshed posts its result (tab-channel.ts) before it releases the lock. A tab holding the lock first hears
 * every message posted so far — its request may have been refused just as another tab refreshed, with that tab's
 * message still on its way — and, if another tab refreshed since this refresh was asked for (the session
 * generation moved on), uses that result instead of refreshing again.
 */
import type { LocksLike } from './types.js';

/** Options of {@link createSingleFlight}. */
export interface SingleFlightOptions {
  /** Name of the cross-tab lock. */
  lockName: string;
  locks: LocksLike | null;
  /** The current session generation (changes when any tab refreshes). */
  generation(): number;
  /** True when the session is fresh enough that no refresh is needed. */
  isFresh(): boolean;
  /** Resolves once this tab has handled every message the other tabs posted before the call (`TabChannel.heard`). */
  heard(): Promise<void>;
  /** Performs one refresh; resolves true on success, false when the session is over. */
  refresh(): Promise<boolean>;
}

/** Returns `run()`: one refresh at a time in this tab, and one at a time across tabs. */
export function createSingleFlight(options: SingleFlightOptions): () => Promise<boolean> {
  let inFlight: Promise<boolean> | undefined;

  async function underLock(): Promise<boolean> {
    const seen = options.generation();
    // Another tab (or this one) refreshed since `seen`: its token is ours too.
    const renewed = (): boolean => options.generation() !== seen && options.isFresh();
    const attempt = async (): Promise<boolean> => {
      if (renewed()) return true;
      // The lock's last holder posted its result before releasing it, so that message is ahead of our marker —
      // with real locks even when this tab did not wait (the holder was done before our 401 was handled).
      await options.heard();
      if (renewed()) return true;
      return options.refresh();
    };
    return options.locks === null ? attempt() : options.locks.request(options.lockName, attempt);
  }

  return () => {
    inFlight ??= underLock().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
