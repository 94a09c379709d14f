/**
 * Where the sign-in page sends the user back to. A page that needs a session sends a signed-out user to
 * `#/signin?next=/the/page` (a bookmark, or a session that ended while they were there); after signing in they go
 * back there. `next` is read from the address bar, so anyone can craft it: only one of the UI's own routes that needs
 * a session is accepted, exactly as registered (with its query, minus any `token` or nested `next`), and it is only
 * ever applied as a hash route of this page — never an origin, a scheme or a full URL. Anything else is the account
 * page.
 */

/** The routes a user may be sent back to (path → title), registered by main.ts. */
const returnable = new Map<string, string>();

/** Where a sign-in lands without (a usable) `next`. */
export const DEFAULT_ROUTE = '/account';

/** Longest `next` accepted; a route and a short query fit many times over. */
const MAX_LENGTH = 1024;

/** Registers the routes that need a session, with their titles (for "you go back to …"). */
export function allowReturnTo(routes: readonly { path: string; title: string }[]): void {
  returnable.clear();
  for (const r of routes) returnable.set(r.path, r.title);
}

/**
 * `next` as a hash route (`/admin/events?user_id=…`) if it names one of `allowed` exactly, else undefined. The query is
 * re-encoded with `token` and `next` removed.
 */
export function safeReturnPath(
  next: string | null | undefined,
  allowed: ReadonlySet<string> | ReadonlyMap<string, unknown>,
): string | undefined {
  if (typeof next !== 'string' || next.length > MAX_LENGTH) return undefined;
  const at = next.indexOf('?');
  const path = at === -1 ? next : next.slice(0, at);
  if (!allowed.has(path)) return undefined;
  const query = new URLSearchParams(at === -1 ? '' : next.slice(at + 1));
  query.delete('token');
  query.delete('next');
  const rest = query.toString();
  return rest === '' ? path : `${path}?${rest}`;
}

/** The query of the current hash route (`#/signin?next=…` → `next=…`). */
function hashQuery(): string {
  const hash = globalThis.location?.hash ?? '';
  const at = hash.indexOf('?');
  return at === -1 ? '' : hash.slice(at + 1);
}

/** The validated `next` of the current hash route, if any. */
export function requestedReturn(): string | undefined {
  return safeReturnPath(new URLSearchParams(hashQuery()).get('next'), returnable);
}

/** Where to go once signed in: the validated `next`, else the account page. */
export function returnRoute(): string {
  return requestedReturn() ?? DEFAULT_ROUTE;
}

/** The title of the page `next` leads back to, for the sign-in page to name. */
export function returnTitle(): string | undefined {
  const next = requestedReturn();
  return next === undefined ? undefined : returnable.get(next.split('?')[0] ?? '');
}

/** `route` spelt as a return route (its query re-encoded), or as it is when it cannot be one. */
export function normalizeRoute(route: string): string {
  return safeReturnPath(route, returnable) ?? route;
}

/** The sign-in route that comes back to `path` (with `query`, the current route's query) afterwards. */
export function signInReturningTo(path: string, query: string): string {
  const next = safeReturnPath(query === '' ? path : `${path}?${query}`, returnable);
  return next === undefined ? '/signin' : `/signin?next=${encodeURIComponent(next)}`;
}

/** Sends the signed-in user on: back to the page they came from, or the account page. */
export function goOnAfterSignIn(): void {
  location.hash = `#${returnRoute()}`;
}
