/**
 * The server's own failures (5xx) in the log once per cause and window. During an outage — the database or Redis
 * down, a bug on a hot path — every request fails the same way; logging each one with its stack turns a few thousand
 * requests a second into a few thousand error lines a second (disk, log shipping, the one line that matters lost).
 * The first failure of a cause is logged in full; the same cause again within the window is counted, and the next
 * line of that cause says how many were not logged. A cause whose window ended with failures counted but which does
 * not come back (the outage is over) has its count logged by `flush`, which the error handler runs every window. Causes are
 * told apart by the caller's key; the number remembered is bounded, and past it every failure is logged (never
 * silence).
 */

/** What to do with one failure. */
export interface FailureLogDecision {
  /** Whether to log it. */
  log: boolean;
  /** When logging: how many failures of the same cause since its last line were not logged. */
  suppressed: number;
}

/** A cause whose window ended with failures that were not logged. */
export interface EndedCause {
  cause: string;
  suppressed: number;
}

/** The throttle (see the file header). */
export interface FailureLog {
  /** Whether the failure of `cause` at `now` is logged. */
  decide(cause: string, now: number): FailureLogDecision;
  /** Forgets the causes whose window is over; returns those with failures not logged, to log their counts. */
  flush(now: number): EndedCause[];
}

/** How long the same cause is logged once. */
export const FAILURE_LOG_WINDOW_MS = 10_000;

/** Builds the throttle over `windowMs`, remembering at most `maxCauses` causes. */
export function failureLog(windowMs = FAILURE_LOG_WINDOW_MS, maxCauses = 1_000): FailureLog {
  // Insertion order is window order: every entry's window is windowMs from its insertion.
  const causes = new Map<string, { until: number; suppressed: number }>();
  const pending: EndedCause[] = [];
  const expire = (now: number): void => {
    for (const [cause, entry] of causes) {
      if (entry.until > now) break;
      causes.delete(cause);
      if (entry.suppressed > 0) pending.push({ cause, suppressed: entry.suppressed });
    }
  };
  return {
    flush(now) {
      expire(now);
      return pending.splice(0);
    },
    decide(cause, now) {
      const entry = causes.get(cause);
      if (entry !== undefined && entry.until > now) {
        entry.suppressed += 1;
        return { log: false, suppressed: 0 };
      }
      // Its own count goes on this line; a full map first makes room from the windows that are over.
      const suppressed = entry?.suppressed ?? 0;
      causes.delete(cause);
      if (causes.size >= maxCauses) expire(now);
      if (causes.size < maxCauses) causes.set(cause, { until: now + windowMs, suppressed: 0 });
      return { log: true, suppressed };
    },
  };
}
