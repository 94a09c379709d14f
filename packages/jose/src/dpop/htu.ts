/**
 * The request facts a DPoP proof is bound to (RFC 9449 §4.2–4.3): the target URI without query and fragment,
 * normalised the way §4.3 asks (RFC 3986 §6.2.2 syntax-based and §6.2.3 scheme-based), and `ath`, the hash of the
 * access token the proof accompanies.
 */
import { createHash } from 'node:crypto';

/** Characters RFC 3986 §2.3 calls unreserved: a percent-escape of one of them means the character itself. */
const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/** RFC 3986 §6.2.2.1–2: escapes of unreserved characters decoded, the hex digits of the others upper-cased. */
function normalizeEscapes(path: string): string {
  return path.replace(/%([0-9a-fA-F]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * The `htu` form of a URL: scheme and host lower-cased, default port dropped, dot segments resolved,
 * percent-escapes normalised (`%7e` is `~`, `%2f` is `%2F`), query and fragment removed. Returns `undefined` for
 * anything that is not an absolute http(s) URL.
 *
 * @example
 * normalizeHtu('HTTPS://API.example.com:443/a/../%6Frders?id=1'); // 'https://api.example.com/orders'
 */
export function normalizeHtu(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  if (parsed.username !== '' || parsed.password !== '') return undefined;
  return `${parsed.origin}${normalizeEscapes(parsed.pathname)}`;
}

/**
 * `ath` (RFC 9449 §4.2): base64url SHA-256 of the ASCII access token.
 *
 * @example
 * const ath = accessTokenHash(accessToken);
 */
export function accessTokenHash(accessToken: string): string {
  return createHash('sha256').update(accessToken, 'ascii').digest('base64url');
}
