/**
 * Durations in options: seconds (`5`), or a string such as `'500ms'`, `'2s'`, `'5m'`, `'1h'` — `@jot/contract`'s one
 * parser, so `clockTolerance: 5` means five seconds here exactly as it does in `@jot/jose` and the server's config.
 */
import { durationOptionMs, type Duration } from '@jot/contract';

export type { Duration };

/**
 * Milliseconds for a duration option; a `TypeError` naming the option for anything else (misuse, thrown when the
 * verifier is built).
 *
 * @example
 * toMillis('2s', 'maxStaleness'); // 2000
 * toMillis(5, 'clockTolerance'); // 5000
 */
export function toMillis(value: Duration, name: string): number {
  return durationOptionMs(value, 'verify', name);
}
