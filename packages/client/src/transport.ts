/**
 * Where requests go: relative paths are resolved against `baseUrl`, and only requests to the Jot server (same
 * origin and under its path) ever get the access token or the CSRF header — a token must never leak to a third
 * party because a page passed an absolute URL to `client.fetch`.
 */
import type { FetchLike } from './types.js';

/** Methods that change state and therefore need the anti-CSRF header in cookie mode (RFC 9110 §9.2.1). */
export function isUnsafeMethod(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(method.toUpperCase());
}

/** Resolves request targets against the server's base URL. */
export interface Transport {
  /** The absolute (or, in a browser with no baseUrl, page-relative) URL of `path` on the server. */
  url(path: string): string;
  /** True when `url` points at the Jot server. */
  isServerUrl(url: string): boolean;
  fetch: FetchLike;
}

function pageHref(): string | undefined {
  const location = (globalThis as { location?: { href?: unknown } }).location;
  return typeof location?.href === 'string' ? location.href : undefined;
}

/** Validates `baseUrl` (a `TypeError` for a bad one) and returns the transport. */
export function createTransport(baseUrl: string, fetchImpl: FetchLike | undefined): Transport {
  const page = pageHref();
  const trimmed = baseUrl.replace(/\/+$/, '');
  let base: URL;
  try {
    base = new URL(trimmed === '' ? (page ?? '') : trimmed + '/', page);
  } catch {
    throw new TypeError(
      trimmed === ''
        ? 'createClient: baseUrl is required outside a browser'
        : 'createClient: baseUrl must be an absolute URL',
    );
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new TypeError('createClient: baseUrl must be an http: or https: URL');
  }
  const prefix = trimmed === '' ? '/' : base.pathname;
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  return {
    url: (path) => (path.startsWith('/') ? trimmed + path : path),
    isServerUrl(url) {
      try {
        const target = new URL(url, base);
        return target.origin === base.origin && target.pathname.startsWith(prefix);
      } catch {
        return false;
      }
    },
    fetch: doFetch,
  };
}
