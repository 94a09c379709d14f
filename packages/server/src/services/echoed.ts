/**
 * A caller's value as an error message quotes it back (an unknown scope, audience, client, path or field name):
 * at most {@link MAX_ECHOED} characters, longer text cut and marked with `...`. A refusal should say what it refused,
 * but a megabyte-long scope must not become a megabyte-long answer (and log line).
 */

/** Longest stretch of a caller's text a message quotes. */
export const MAX_ECHOED = 100;

/**
 * `value` cut to {@link MAX_ECHOED} characters, with `...` appended when it was cut (never inside a surrogate pair).
 *
 * @example
 * echoed('x'.repeat(5000)); // 'xxxx…x...' — 100 x's then '...'
 */
export function echoed(value: string): string {
  if (value.length <= MAX_ECHOED) return value;
  const cut = value.charCodeAt(MAX_ECHOED - 1);
  const end = cut >= 0xd800 && cut <= 0xdbff ? MAX_ECHOED - 1 : MAX_ECHOED;
  return `${value.slice(0, end)}...`;
}

/** A list of caller values as a message quotes it: each one in double quotes, the whole line bounded as above. */
export function echoedList(values: readonly string[]): string {
  return echoed(values.map((value) => `"${value}"`).join(', '));
}
