/**
 * The one rule for a resource indicator (RFC 8707 §2): what a client may register as an audience and what
 * `/oauth/token` takes as `resource` (or `audience`) — so registration never accepts an audience the token endpoint
 * would refuse. An absolute URI (a scheme, then something), without a fragment, at most 512 characters, without
 * spaces or control characters (percent-escaped ones included: `%00` is no part of any service's name), with
 * well-formed percent-escapes, and not of a scheme that is script or inline content (`javascript:`, `data:`, …).
 */

/** The most characters of a resource indicator (a registered audience, a `resource` value). */
export const MAX_RESOURCE_INDICATOR_LENGTH = 512;

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):(.+)$/s;
/** Schemes that name script or inline content, never a resource server. */
const REFUSED_SCHEMES: ReadonlySet<string> = new Set([
  'javascript',
  'vbscript',
  'data',
  'blob',
  'file',
  'about',
  'filesystem',
]);
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_OR_SPACE = /[\u0000-\u0020\u007f-\u009f]/;
const PERCENT_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ESCAPED_CONTROL = /%(?:[01][0-9A-Fa-f]|7[Ff])/;

/** Why `value` is not a resource indicator, or undefined when it is one. */
export function resourceIndicatorProblem(value: string): string | undefined {
  if (value.length > MAX_RESOURCE_INDICATOR_LENGTH) {
    return `is longer than ${MAX_RESOURCE_INDICATOR_LENGTH} characters`;
  }
  if (CONTROL_OR_SPACE.test(value)) return 'contains a space or a control character';
  const scheme = SCHEME.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined) return 'is not an absolute URI (https://…)';
  if (REFUSED_SCHEMES.has(scheme)) return `has the scheme "${scheme}:", which names no resource server`;
  if (value.includes('#')) return 'has a fragment ("#"), which a resource indicator must not have';
  if (PERCENT_ESCAPE.test(value)) return 'has a "%" that is not a percent-escape (%XX)';
  if (ESCAPED_CONTROL.test(value)) return 'has a percent-escaped control character';
  try {
    new URL(value);
  } catch {
    return 'is not a valid absolute URI';
  }
  return undefined;
}
