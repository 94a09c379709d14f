/**
 * The proactive refresh timer: fires `expires_in - margin` after a token arrives. The margin is capped at half the
 * token's lifetime, so a short-lived token (2 s in tests) is refreshed at mid-life instead of immediately — which
 * would otherwise be a refresh loop.
 */

/** The timer of one client. */
export interface RefreshTimer {
  /** (Re)arms the timer for a token expiring at `expiresAt` (epoch ms). */
  schedule(expiresAt: number): void;
  cancel(): void;
  /** The effective margin for the current token. */
  marginMs(current: { expiresAt: number } | undefined): number;
}

/** Creates the timer; `onFire` starts a refresh. */
export function createRefreshTimer(marginMs: number, onFire: () => void): RefreshTimer {
  let handle: ReturnType<typeof setTimeout> | undefined;
  let lifetimeMs = Infinity;
  const effective = (): number => Math.min(marginMs, lifetimeMs / 2);
  return {
    schedule(expiresAt) {
      if (handle !== undefined) clearTimeout(handle);
      lifetimeMs = Math.max(0, expiresAt - Date.now());
      handle = setTimeout(
        () => {
          handle = undefined;
          onFire();
        },
        Math.max(1000, lifetimeMs - effective()),
      );
      // In Node, a pending refresh must not keep a finished script alive.
      (handle as { unref?: () => void }).unref?.();
    },
    cancel() {
      if (handle !== undefined) clearTimeout(handle);
      handle = undefined;
    },
    marginMs: (current) => (current === undefined ? 0 : effective()),
  };
}
