/**
 * The server's own failures (5xx) in the log once per cause and window. During an outage — the database or Redis
 * down, a bug on a hot path — every request fails the same way; logging each one with its stack turns a few thousand
 * requests a second into a few thousand error lines a second (disk, log shipping, the one line that matters lost).
 * The first failure of a cause is logged in full; the same cause again within the window is counted, and the next
 * line of that cause says how many were not logged. Causes are told apart by code, error name and message; the
 * number remembered is bounded, and past it every failure is logged (never silence).
 */

/** What to do with one failure. */
export interface FailureLogDecision {
  /** Whether to log it. */
  log: boolean;
  /** When logging: how many failures of the same cause since its last line were not logged. */
  suppressed: number;
}

/** Decides, per failure, whether it is logged (see the file header). */
export type FailureLog = (cause: string, now: number) => FailureLogDecision;

/** How long the same cause is logged once. */
export const FAILURE_LOG_WINDOW_MS = 10_000;

/** Builds the decision over `windowMs`, remembering at most `maxCauses` causes. */
export function failureLog(windowMs = FAILURE_LOG_WINDOW_MS, maxCauses = 1_000): FailureLog {
  const causes = new Map<string, { until: number; suppressed: number }>();
  return (cause, now) => {
    const entry = causes.get(cause);
    if (entry !== undefined && entry.until > now) {
      entry.suppressed += 1;
      return { log: false, suppressed: 0 };
    }
    const suppressed = entry?.suppressed ?? 0;
    causes.delete(cause);
    if (causes.size >= maxCauses) {
      for (const [key, value] of causes) if (value.until <= now && value.suppressed === 0) causes.delete(key);
    }
    if (causes.size < maxCauses) causes.set(cause, { until: now + windowMs, suppressed: 0 });
    return { log: true, suppressed };
  };
}
