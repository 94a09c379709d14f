/**
 * A cookie jar around `fetch`, for driving the browser delivery modes (`cookie`, `memory`) of a real Jot server
 * from Node, whose `fetch` keeps no cookies. It does what a browser does with the server's cookies and no more:
 * stores `Set-Cookie` per host, forgets a cookie on `Max-Age<=0` or a past `Expires`, and sends a cookie only
 * to paths under its `Path` (RFC 6265 §5.1.4, §5.3, §5.4). Clients sharing one jar are tabs of one browser.
 */

/** The `fetch` signature `@jot/client` takes. */
export type FetchLike = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>;

interface StoredCookie {
  host: string;
  name: string;
  value: string;
  path: string;
}

export interface CookieJar {
  /** A fetch that sends the jar's cookies and stores the answer's. */
  fetch: FetchLike;
  /** The value of a cookie set by `host`, if the jar holds it. */
  get(host: string, name: string): string | undefined;
}

/** RFC 6265 §5.1.4: does `requestPath` fall under `cookiePath`? */
function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/** RFC 6265 §5.1.4: the default path is the request path up to its last `/`. */
function defaultPath(requestPath: string): string {
  const slash = requestPath.lastIndexOf('/');
  return slash <= 0 ? '/' : requestPath.slice(0, slash);
}

/** One `Set-Cookie` line: the cookie, and whether it is already expired (a deletion). */
function parseSetCookie(line: string, url: URL): { cookie: StoredCookie; expired: boolean } | undefined {
  const [pair = '', ...attributes] = line.split(';');
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const cookie = {
    host: url.host,
    name: pair.slice(0, eq).trim(),
    value: pair.slice(eq + 1).trim(),
    path: '',
  };
  let expired = false;
  for (const attribute of attributes) {
    const [rawName = '', ...rest] = attribute.split('=');
    const name = rawName.trim().toLowerCase();
    const value = rest.join('=').trim();
    if (name === 'path' && value.startsWith('/')) cookie.path = value;
    else if (name === 'max-age') expired = Number(value) <= 0;
    else if (name === 'expires' && !attributes.some((a) => /^\s*max-age=/i.test(a)))
      expired = Date.parse(value) <= Date.now();
  }
  if (cookie.path === '') cookie.path = defaultPath(url.pathname);
  return { cookie, expired };
}

export function cookieJar(inner: FetchLike = (input, init) => fetch(input, init)): CookieJar {
  let cookies: StoredCookie[] = [];
  const same = (a: StoredCookie, b: StoredCookie): boolean =>
    a.host === b.host && a.name === b.name && a.path === b.path;
  return {
    get: (host, name) => cookies.find((c) => c.host === host && c.name === name)?.value,
    fetch: async (input, init) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      const sent = cookies.filter((c) => c.host === url.host && pathMatches(url.pathname, c.path));
      // Longer paths first (RFC 6265 §5.4 step 2).
      sent.sort((a, b) => b.path.length - a.path.length);
      const headers = new Headers(request.headers);
      if (sent.length > 0) headers.set('cookie', sent.map((c) => `${c.name}=${c.value}`).join('; '));
      const body =
        request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
      const response = await inner(url, { method: request.method, headers, body, signal: request.signal });
      for (const line of response.headers.getSetCookie()) {
        const parsed = parseSetCookie(line, url);
        if (parsed === undefined) continue;
        cookies = cookies.filter((c) => !same(c, parsed.cookie));
        if (!parsed.expired) cookies.push(parsed.cookie);
      }
      return response;
    },
  };
}
