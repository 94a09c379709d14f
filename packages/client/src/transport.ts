/**
 * Where requests go: every target is resolved once, against the server's base URL, and that one resolved URL is
 * both what is checked and what is requested. Only requests to the Jot server (same origin and under its path)
 * ever get the access token or the CSRF header — a token must never leak to a third party because a page passed
 * an absolute, scheme-relative or oddly spelled URL to `client.fetch`.
 */
import type { FetchLike } from './types.js';

/** Methods that change state and therefore need the anti-CSRF header in cookie mode (RFC 9110 §9.2.1). */
export function isUnsafeMethod(method: string): boolean {
  return !['GET', 'HEAD', 'OPTIONS', 'TRACE'].includes(method.toUpperCase());
}

/** Resolves request targets against the server's base URL. */
export interface Transport {
  /**
   * The absolute URL a request for `target` goes to: a path starting with one `/` is under the base path
   * (`/api/x` with base `https://h/auth` is `https://h/auth/api/x`); anything else resolves as a browser would
   * against the base (`api/x`, `//other.host`, `https:other.host`, absolute URLs). Throws a `TypeError` when
   * `target` is not a URL.
   */
  resolve(target: string | URL): URL;
  /** True when the resolved `url` points at the Jot server: same origin, under the base path, no userinfo. */
  isServerUrl(url: URL): boolean;
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
  // The path every server URL starts with, always ending in "/" ("/" for a same-origin client).
  const prefix = trimmed === '' ? '/' : base.pathname;
  const doFetch: FetchLike = fetchImpl ?? ((input, init) => globalThis.fetch(input, init));
  return {
    resolve(target) {
      if (target instanceof URL) return new URL(target.href);
      // "/x" is a server path; "//host" and "/\host" are scheme-relative URLs to another host (the URL parser
      // reads "\" as "/"), so they resolve as a browser would and are then checked like any other URL.
      if (/^\/(?![/\\])/.test(target)) return new URL(prefix.slice(0, -1) + target, base);
      return new URL(target, base);
    },
    isServerUrl(url) {
      return (
        url.origin === base.origin &&
        url.username === '' &&
        url.password === '' &&
        url.pathname.startsWith(prefix)
      );
    },
    fetch: doFetch,
  };
}
