/**
 * When the outbox tries a failed message again: exponential back-off with jitter, so a transport that comes back
 * is not hit by every instance's retries at the same moment.
 */

/** How a failed message is retried. */
export interface RetrySettings {
  /** First retry delay; each further one doubles, up to `maxDelayMs`. */
  retryBaseMs: number;
  maxDelayMs: number;
  /** Attempts before a message is marked failed (`jot outbox retry` revives it). */
  maxAttempts: number;
}

/** The delay before attempt `attempts + 1`: base · 2^(attempts−1), capped, ±20 % jitter. */
export function backoffMs(
  attempts: number,
  settings: Pick<RetrySettings, 'retryBaseMs' | 'maxDelayMs'>,
): number {
  const raw = Math.min(settings.maxDelayMs, settings.retryBaseMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}
