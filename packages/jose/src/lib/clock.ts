/** Time for claim checks: whole seconds since the epoch, from an injected date or the system clock. */

/** Seconds since the epoch for `date`, or now. */
export function epochSeconds(date?: Date): number {
  return Math.floor((date === undefined ? Date.now() : date.getTime()) / 1000);
}
