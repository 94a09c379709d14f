/**
 * Repeated header lines as a request received them. Node's `request.headers` keeps only the first line of some
 * fields (`Authorization`) and joins others with ", " (`DPoP`), so a check that must see every line — refusing two
 * `Authorization` lines (RFC 9110 §5.3) or two DPoP proofs (RFC 9449 §4.3) — reads Node's `rawHeaders`: a flat
 * `[name, value, name, value, …]` list with names as sent. The server and `@jot/verify` share these, so both count
 * lines alike.
 */

/** True when `line` is `name` (given in lower case) in any spelling. */
function isName(line: unknown, name: string): boolean {
  return typeof line === 'string' && line.length === name.length && line.toLowerCase() === name;
}

/** How many `name` (lower case) lines `raw` holds; allocates nothing (it runs on every guarded request). */
export function rawHeaderCount(raw: readonly unknown[], name: string): number {
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    if (isName(raw[i], name)) count += 1;
  }
  return count;
}

/** The values of every `name` (lower case) line in `raw`, in the order received. */
export function rawHeaderValues(raw: readonly unknown[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    if (isName(raw[i], name)) {
      const value = raw[i + 1];
      values.push(typeof value === 'string' ? value : '');
    }
  }
  return values;
}
