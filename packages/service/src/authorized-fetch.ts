/**
 * One outgoing call with a token: `Authorization: Bearer`, or with DPoP (RFC 9449) `Authorization: DPoP` plus a
 * proof bound to the token (`ath`), a resource server's `DPoP-Nonce` challenge answered once (§9). A 401
 * `invalid_token` (RFC 6750 §3.1) means the token was refused — revoked, or signed by a key the resource server has
 * not seen yet — so it is dropped from the cache and the call made once more with a fresh one. A body that can be
 * read only once (a ReadableStream, a Node stream, any async iterable) cannot be sent twice, so such a call is never
 * retried: the first response is handed back.
 */
import type { ServiceDPoP } from './dpop.js';
import type { TokenCache } from './token-cache.js';
import type { FetchLike } from './token-endpoint.js';

/** What every call shares. */
export interface AuthorizedFetchContext {
  fetchImpl: FetchLike;
  dpop: ServiceDPoP | undefined;
  cache: TokenCache;
}

/**
 * Whether `body` can be sent again: nothing, a string, a Blob, bytes, URLSearchParams or FormData. Anything else
 * Node's fetch accepts — a ReadableStream, a Node stream, an async iterable (`duplex: 'half'`) — is consumed by the
 * first request.
 */
function replayable(body: RequestInit['body']): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof Blob ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof URLSearchParams ||
    body instanceof FormData
  );
}

/** One request with `token`, no retries. */
async function sendOnce(
  ctx: AuthorizedFetchContext,
  target: string,
  init: RequestInit,
  token: string,
): Promise<Response> {
  const { fetchImpl, dpop } = ctx;
  const headers = new Headers(init.headers);
  if (dpop === undefined) {
    headers.set('authorization', `Bearer ${token}`);
    return fetchImpl(target, { ...init, headers });
  }
  headers.set('authorization', `DPoP ${token}`);
  headers.set('dpop', await dpop.proof(init.method ?? 'GET', target, token));
  const response = await fetchImpl(target, { ...init, headers });
  dpop.remember(target, response);
  return response;
}

/** A request with a token from `get`, sent again once if the resource server asks for its DPoP nonce. */
async function attempt(
  ctx: AuthorizedFetchContext,
  get: () => Promise<string>,
  target: string,
  init: RequestInit,
): Promise<{ response: Response; token: string }> {
  const token = await get();
  let response = await sendOnce(ctx, target, init, token);
  // A resource server that wants its nonce (RFC 9449 §9): once more, with it.
  if (ctx.dpop !== undefined && replayable(init.body) && (await ctx.dpop.asksForNonce(response))) {
    await response.body?.cancel();
    response = await sendOnce(ctx, target, init, token);
  }
  return { response, token };
}

/** `fetch` with a token from `get` (cached under `key`), retried once with a new token after `invalid_token`. */
export async function authorizedFetch(
  ctx: AuthorizedFetchContext,
  get: () => Promise<string>,
  key: string,
  url: string | URL,
  init: RequestInit = {},
): Promise<Response> {
  const target = String(url);
  const first = await attempt(ctx, get, target, init);
  const challenge = first.response.headers.get('www-authenticate') ?? '';
  if (first.response.status !== 401 || !/invalid_token/.test(challenge) || !replayable(init.body)) {
    return first.response;
  }
  // The token was refused (revoked, or signed by a key the service has not seen yet): one retry with a new one.
  await first.response.body?.cancel();
  ctx.cache.drop(key, first.token);
  return (await attempt(ctx, get, target, init)).response;
}
