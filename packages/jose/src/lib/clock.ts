/** Time for claim checks: whole seconds since the epoch, from an injected date or the system clock. */

/**
 * Seconds since the epoch for `date`, or now. An invalid `Date` is a caller bug and a `TypeError`: NaN would make
 * every `exp`/`nbf` comparison false, so an expired token would pass.
 */
export function epochSeconds(date?: Date): number {
  if (date === undefined) return Math.floor(Date.now() / 1000);
  const ms = date instanceof Date ? date.getTime() : NaN;
  if (!Number.isFinite(ms)) throw new TypeError('"currentDate" must be a valid Date');
  return Math.floor(ms / 1000);
}
