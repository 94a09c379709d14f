/**
 * Refresh coordination — the classic bug is N requests that all see an expired token and each spend the refresh
 * token. Within a tab, every caller shares one promise. Across tabs, the refresh runs under a Web Lock; a tab that
 * waited on the lock first checks whether another tab already refreshed (its BroadcastChannel message bumped the
 * session generation) and, if so, uses that result instead of refreshing again.
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
  /** Performs one refresh; resolves true on success, false when the session is over. */
  refresh(): Promise<boolean>;
}

/** Waiting on the lock longer than this means another tab probably just refreshed. */
const LOCK_WAIT_NOTICED_MS = 5;
/** How long to wait for that tab's broadcast before refreshing anyway. */
const BROADCAST_GRACE_MS = 30;

/** Returns `run()`: one refresh at a time in this tab, and one at a time across tabs. */
export function createSingleFlight(options: SingleFlightOptions): () => Promise<boolean> {
  let inFlight: Promise<boolean> | undefined;

  async function underLock(): Promise<boolean> {
    const seen = options.generation();
    const requestedAt = Date.now();
    const attempt = async (): Promise<boolean> => {
      // Another tab (or this one) refreshed while we waited for the lock: its token is ours too.
      if (options.generation() !== seen && options.isFresh()) return true;
      // We did wait: the tab that held the lock broadcast its result just before releasing it, and that message
      // may be a task behind this one. Give it a moment rather than spend the refresh token a second time.
      if (Date.now() - requestedAt > LOCK_WAIT_NOTICED_MS) {
        await new Promise((resolve) => setTimeout(resolve, BROADCAST_GRACE_MS));
        if (options.generation() !== seen && options.isFresh()) return true;
      }
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
