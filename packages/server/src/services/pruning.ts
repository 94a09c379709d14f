/**
 * The periodic sweep of rows that have outlived their purpose: revocation entries past the tokens they cover,
 * client-assertion ids, MFA challenges, DPoP proof ids, one-time tokens (links) and single-token renewals past their
 * expiry, old sign-in throttles, sessions that ended more than `JOT_SESSION_RETENTION` ago with their refresh
 * tokens, and the rows of rotated version-2 refresh tokens once nothing reads them (store/refresh-token-pruning.ts).
 * Each prune is a DELETE by an indexed expiry (the sessions' and the rotated tokens' in bounded batches), safe to run
 * on every instance at once; a failure is logged and the others still run.
 */
import type { Store } from '../store/index.js';
import type { LoginThrottleService } from './login-throttle.js';
import type { RevocationService } from './revocation.js';

/** How often each instance sweeps. */
export const PRUNE_INTERVAL_MS = 60_000;

/** Rows per statement of the ended-session prune (refresh tokens, then sessions). */
export const SESSION_PRUNE_BATCH = 1000;

/**
 * Batches of the ended-session prune per sweep, at most: up to 20 000 sessions and as many refresh tokens a minute per
 * instance, each statement short. A backlog larger than that (the first sweep after an upgrade) drains over sweeps.
 */
export const SESSION_PRUNE_BATCHES = 20;

/**
 * Deletes the sessions that ended more than `retentionMs` ago and their refresh tokens, a batch at a time until a
 * batch is not full or `SESSION_PRUNE_BATCHES` ran; resolves to the rows deleted. (Each batch is the store's
 * `pruneEndedSessions`.)
 */
export async function sweepEndedSessions(store: Store, retentionMs: number): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < SESSION_PRUNE_BATCHES; batch++) {
    const { refreshTokens, sessions } = await store.pruneEndedSessions(retentionMs, SESSION_PRUNE_BATCH);
    deleted += refreshTokens + sessions;
    if (refreshTokens < SESSION_PRUNE_BATCH && sessions < SESSION_PRUNE_BATCH) break;
  }
  return deleted;
}

/** Rows per statement of the rotated-token prune. */
export const ROTATED_TOKEN_PRUNE_BATCH = 1000;

/** Batches of the rotated-token prune per sweep, at most (20 000 rows a minute per instance). */
export const ROTATED_TOKEN_PRUNE_BATCHES = 20;

/**
 * Added to the longest time a rotated token's row is read, so a row is never pruned just before a read on an instance
 * whose clock runs a little behind, nor under a request that read the token a moment before.
 */
export const ROTATED_TOKEN_MARGIN_MS = 5 * 60_000;

/**
 * How long a rotated version-2 token's row is kept: as long as the longest of the times it is read — the grace window
 * (`JOT_REFRESH_GRACE_WINDOW`: the previous token presented again gets the same successor from its row) and one
 * access-token lifetime (`JOT_ACCESS_TOKEN_TTL`: the rotation count of `JOT_REFRESH_SESSION_LIMIT` and the
 * `refresh_anomaly` signal) — plus the clock tolerance and {@link ROTATED_TOKEN_MARGIN_MS}.
 */
export function rotatedTokenKeepMs(settings: {
  graceMs: number;
  accessTokenTtlMs: number;
  clockToleranceMs: number;
}): number {
  return (
    Math.max(settings.graceMs, settings.accessTokenTtlMs) +
    settings.clockToleranceMs +
    ROTATED_TOKEN_MARGIN_MS
  );
}

/**
 * Deletes the rows of marked (version-2) refresh tokens rotated more than `keepMs` ago, a batch at a time until a
 * batch is not full or `ROTATED_TOKEN_PRUNE_BATCHES` ran; resolves to the rows deleted. (Each batch is the store's
 * `pruneRotatedRefreshTokens`.)
 */
export async function sweepRotatedRefreshTokens(store: Store, keepMs: number): Promise<number> {
  let deleted = 0;
  for (let batch = 0; batch < ROTATED_TOKEN_PRUNE_BATCHES; batch++) {
    const rows = await store.pruneRotatedRefreshTokens(keepMs, ROTATED_TOKEN_PRUNE_BATCH);
    deleted += rows;
    if (rows < ROTATED_TOKEN_PRUNE_BATCH) break;
  }
  return deleted;
}

/** Runs every prune once; resolves when all have finished (failures are passed to `warn`, never thrown). */
export async function pruneExpired(deps: {
  store: Store;
  revocations: RevocationService;
  loginThrottle: LoginThrottleService;
  /** `JOT_SESSION_RETENTION`: how long an ended session is kept. */
  sessionRetentionMs: number;
  /** How long a rotated version-2 refresh token's row is kept ({@link rotatedTokenKeepMs}). */
  rotatedTokenKeepMs: number;
  warn: (err: unknown, what: string) => void;
}): Promise<void> {
  const { store, revocations, loginThrottle, sessionRetentionMs, rotatedTokenKeepMs, warn } = deps;
  const prunes: Array<[string, () => Promise<number>]> = [
    ['revocations', () => revocations.prune()],
    ['assertion ids', () => store.pruneAssertionJtis()],
    ['MFA challenges', () => store.mfa.pruneChallenges()],
    ['DPoP proofs', () => store.pruneDPoPProofs()],
    ['one-time tokens', () => store.pruneExpiredOneTimeTokens()],
    ['token renewals', () => store.pruneTokenRenewals()],
    ['sign-in throttles', () => loginThrottle.prune()],
  ];
  const run = ([what, prune]: [string, () => Promise<number>]): Promise<void> =>
    prune().then(
      () => undefined,
      (err: unknown) => warn(err, `pruning ${what} failed`),
    );
  // Both of these delete refresh_tokens rows, on PostgreSQL skipping locked ones: run at once, the ended-session
  // sweep skipped the rotated rows the other was deleting, found their session still holding tokens and kept it
  // until the next sweep. One after the other (ended sessions first: their rotated rows go with them).
  const refreshTokenSweeps = async (): Promise<void> => {
    await run(['ended sessions', () => sweepEndedSessions(store, sessionRetentionMs)]);
    await run(['rotated refresh tokens', () => sweepRotatedRefreshTokens(store, rotatedTokenKeepMs)]);
  };
  await Promise.all([...prunes.map(run), refreshTokenSweeps()]);
}
