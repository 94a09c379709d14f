/** Durations in options: a number of milliseconds, or a string such as `"500ms"`, `"2s"`, `"5m"`, `"1h"`. */
import { parseDuration } from '@jot/jose';

/** A duration as options accept it. */
export type Duration = number | `${number}ms` | (string & {});

/**
 * Milliseconds for a duration option; a `TypeError` naming the option for anything else (misuse, thrown when the
 * verifier is built).
 *
 * @example
 * toMillis('2s', 'maxStaleness'); // 2000
 */
export function toMillis(value: Duration, name: string): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0)
      throw new TypeError(`verify: "${name}" must be a non-negative duration`);
    return value;
  }
  const ms = /^\s*(\d+(?:\.\d+)?)\s*ms\s*$/i.exec(String(value));
  if (ms !== null) return Number(ms[1]);
  try {
    return parseDuration(value) * 1000;
  } catch {
    throw new TypeError(`verify: "${name}" must be milliseconds or a duration such as "2s" or "5m"`);
  }
}
