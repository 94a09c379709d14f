/**
 * The periodic sweep of rows that have outlived their purpose: revocation entries past the tokens they cover,
 * client-assertion ids, MFA challenges, DPoP proof ids, one-time tokens (links) and single-token renewals past their
 * expiry, and old sign-in throttles. Each prune is one DELETE by an expiry column, safe to run on every instance at
 * once; a failure is logged and the others still run.
 */
import type { Store } from '../store/index.js';
import type { LoginThrottleService } from './login-throttle.js';
import type { RevocationService } from './revocation.js';

/** How often each instance sweeps. */
export const PRUNE_INTERVAL_MS = 60_000;

/** Runs every prune once; resolves when all have finished (failures are passed to `warn`, never thrown). */
export async function pruneExpired(deps: {
  store: Store;
  revocations: RevocationService;
  loginThrottle: LoginThrottleService;
  warn: (err: unknown, what: string) => void;
}): Promise<void> {
  const { store, revocations, loginThrottle, warn } = deps;
  const prunes: Array<[string, () => Promise<number>]> = [
    ['revocations', () => revocations.prune()],
    ['assertion ids', () => store.pruneAssertionJtis()],
    ['MFA challenges', () => store.mfa.pruneChallenges()],
    ['DPoP proofs', () => store.pruneDPoPProofs()],
    ['one-time tokens', () => store.pruneExpiredOneTimeTokens()],
    ['token renewals', () => store.pruneTokenRenewals()],
    ['sign-in throttles', () => loginThrottle.prune()],
  ];
  await Promise.all(
    prunes.map(([what, prune]) => prune().catch((err: unknown) => warn(err, `pruning ${what} failed`))),
  );
}
