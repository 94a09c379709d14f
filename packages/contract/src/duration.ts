/**
 * Durations as people write them ("15m", "30 days", "10s", "500ms", 900): the one parser of every Jot package and
 * option. A bare number is seconds everywhere; a string is a number and a unit. `sign()` (`expiresIn`, `notBefore`),
 * the claim checks (`clockTolerance`, `maxTokenAge`), the server's configuration, the options of `@jot/verify`,
 * `@jot/client` and `@jot/service`, and the CLI all read durations here, so they accept the same spellings and refuse the rest with the same message.
 */

/** Seconds per unit. */
const UNITS: ReadonlyMap<string, number> = new Map([
  ['ms', 0.001],
  ['msec', 0.001],
  ['millisecond', 0.001],
  ['milliseconds', 0.001],
  ['s', 1],
  ['sec', 1],
  ['secs', 1],
  ['second', 1],
  ['seconds', 1],
  ['m', 60],
  ['min', 60],
  ['mins', 60],
  ['minute', 60],
  ['minutes', 60],
  ['h', 3600],
  ['hr', 3600],
  ['hrs', 3600],
  ['hour', 3600],
  ['hours', 3600],
  ['d', 86_400],
  ['day', 86_400],
  ['days', 86_400],
  ['w', 604_800],
  ['week', 604_800],
  ['weeks', 604_800],
]);

const PATTERN = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;

/** A duration as every Jot option accepts it: seconds, or a string such as `'500ms'`, `'5s'`, `'15m'`, `'2h'`. */
export type Duration = number | string;

/** The duration in (fractional) seconds, or the one `TypeError` every package gives. */
function seconds(input: Duration): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) {
      throw new TypeError(
        `invalid duration ${String(input)}: use a number of seconds or e.g. "5s", "15m", "2h"`,
      );
    }
    return input;
  }
  const match = typeof input === 'string' ? PATTERN.exec(input.trim().toLowerCase()) : null;
  const unit = match ? UNITS.get(match[2] || 's') : undefined;
  if (!match || unit === undefined) {
    throw new TypeError(
      `invalid duration "${String(input)}": use a number of seconds or e.g. "5s", "15m", "2h"`,
    );
  }
  return Number(match[1]) * unit;
}

/**
 * Parses a duration into whole seconds (rounded down). A number is taken as seconds already.
 *
 * @throws {TypeError} when the input is not a non-negative finite number or a `<number><unit>` string
 *   (units: ms, s, m, h, d, w and their long forms). A bare numeric string is seconds.
 * @example
 * parseDuration('15m'); // 900
 * parseDuration('30 days'); // 2592000
 * parseDuration(10); // 10
 */
export function parseDuration(input: Duration): number {
  return Math.floor(seconds(input));
}

/**
 * Parses a duration into whole milliseconds (rounded to the nearest), for options that need sub-second precision.
 * The same input rules and errors as `parseDuration`: a number is seconds.
 *
 * @example
 * parseDurationMs(5); // 5000
 * parseDurationMs('250ms'); // 250
 * parseDurationMs('1.5s'); // 1500
 */
export function parseDurationMs(input: Duration): number {
  return Math.round(seconds(input) * 1000);
}

/**
 * Milliseconds for a duration option, or a `TypeError` naming the package and the option (misuse, thrown when the
 * thing is built). The one validation of duration options in `@jot/verify`, `@jot/client` and `@jot/service`.
 *
 * @example
 * durationOptionMs('2m', 'service', 'renewBefore'); // 120000
 * durationOptionMs(5, 'verify', 'clockTolerance'); // 5000
 */
export function durationOptionMs(value: Duration, where: string, name: string): number {
  try {
    return parseDurationMs(value);
  } catch (err) {
    throw new TypeError(`${where}: "${name}": ${(err as Error).message}`);
  }
}

/**
 * Refuses options renamed before 1.0 (`{ old: 'new' }`) with a `TypeError` naming the new one, so an old
 * configuration is never silently ignored.
 */
export function refuseRenamedOptions(
  options: object,
  where: string,
  renamed: Readonly<Record<string, string>>,
): void {
  for (const [old, current] of Object.entries(renamed)) {
    if (old in options) {
      throw new TypeError(
        `${where}: "${old}" was renamed "${current}" (a number of seconds or a string such as "5s")`,
      );
    }
  }
}
