/**
 * Durations as people write them in configuration ("15m", "30 days", "10s", 900) turned into whole seconds.
 * Used by `sign()` for `expiresIn`/`notBefore` and by the server's configuration loader.
 */

const UNITS: ReadonlyMap<string, number> = new Map([
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

/**
 * Parses a duration into whole seconds (rounded down). A number is taken as seconds already.
 *
 * @throws {TypeError} when the input is not a non-negative finite number or a `<number><unit>` string
 *   (units: s, m, h, d, w and their long forms). A bare numeric string is seconds.
 * @example
 * parseDuration('15m'); // 900
 * parseDuration('30 days'); // 2592000
 * parseDuration(10); // 10
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new TypeError(`invalid duration: ${String(input)}`);
    return Math.floor(input);
  }
  const match = typeof input === 'string' ? PATTERN.exec(input.trim().toLowerCase()) : null;
  const unit = match ? UNITS.get(match[2] || 's') : undefined;
  if (!match || unit === undefined) {
    throw new TypeError(
      `invalid duration "${String(input)}": use a number of seconds or e.g. "15m", "12h", "30d"`,
    );
  }
  return Math.floor(Number(match[1]) * unit);
}
