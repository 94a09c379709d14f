/**
 * `createServiceClient`: what a service needs to call another service with Jot tokens.
 * - `token()`: a client-credentials token (RFC 6749 §4.4) for an audience, the client authenticated by an RFC 7523
 *   assertion signed with its private key (`private_key_jwt`) or by its secret; cached and renewed before expiry.
 * - `exchange()`: a user's token exchanged (RFC 8693) for a short-lived one for another service, naming this
 *   service as the actor — the SERVER1 → SERVER2 call on the user's behalf; cached per user token and audience.
 * - `fetch()` / `fetchAs()`: a `fetch` that sends the token, and on a 401 `invalid_token` drops it and retries once
 *   with a fresh one (the token may have been revoked or the key rotated).
 * - `dpop`: tokens bound to a non-extractable ES256 key (RFC 9449): a proof on every token request and every call
 *   (`Authorization: DPoP`, with `ath`), `DPoP-Nonce` challenges answered once, from Jot and from resource servers.
 */
import { createHash } from 'node:crypto';

import { OAUTH_URIS, type OAuthTokenResponse } from '@jot/contract';

import { authorizedFetch, type AuthorizedFetchContext } from './authorized-fetch.js';
import { clientAuthentication } from './client-authentication.js';
import { createServiceDPoP, type ServiceDPoP } from './dpop.js';
import { checkOptions, type ServiceClientOptions, type TokenTarget } from './options.js';
import { requestToken, tokenEndpointOf, type FetchLike } from './token-endpoint.js';
import { TokenCache } from './token-cache.js';

/** The helper. */
export interface ServiceClient {
  /** A client-credentials token for `target` (cached until shortly before it expires). */
  token(target?: TokenTarget): Promise<string>;
  /** Exchanges `subjectToken` (a user's access token) for a token for `target` that acts for the user. */
  exchange(subjectToken: string, target?: TokenTarget): Promise<string>;
  /** `fetch` with this service's own token for `target`. */
  fetch(url: string | URL, target?: TokenTarget, init?: RequestInit): Promise<Response>;
  /** `fetch` on behalf of the user whose token is `subjectToken` (token exchange). */
  fetchAs(
    subjectToken: string,
    url: string | URL,
    target?: TokenTarget,
    init?: RequestInit,
  ): Promise<Response>;
  /**
   * Forgets every cached token (e.g. after rotating the client's key). A token request already in flight still
   * answers the calls waiting for it, but its token is not cached: the next call asks for a new one.
   */
  clear(): void;
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

/** The cache key of a token: its grant (`cc` or `te`), target, and for an exchange the user token's hash. */
function keyOf(kind: 'cc' | 'te', target: TokenTarget, subject = ''): string {
  return JSON.stringify([kind, target.audience ?? '', target.scope ?? '', subject]);
}

/** The grant's form with the target's `resource` (RFC 8707) and `scope`. */
function grantParams(grant: Record<string, string>, target: TokenTarget): URLSearchParams {
  const params = new URLSearchParams(grant);
  if (target.audience !== undefined) params.set('resource', target.audience);
  if (target.scope !== undefined) params.set('scope', target.scope);
  return params;
}

/** The token endpoint: the configured one, else discovered from the issuer's metadata. */
function endpointOf(
  options: ServiceClientOptions,
  fetchImpl: FetchLike,
  timeoutMs: number,
): () => Promise<string> {
  if (options.tokenEndpoint === undefined) return tokenEndpointOf(options.issuer, fetchImpl, timeoutMs);
  const url = new URL(options.tokenEndpoint).href;
  return () => Promise.resolve(url);
}

/**
 * Builds the helper. Option errors are `TypeError`s thrown here; token failures are `ServiceError`s.
 *
 * @example
 * const service = createServiceClient({
 *   issuer: 'https://auth.example.com',
 *   clientId: 'billing',
 *   privateKey: process.env.BILLING_PRIVATE_KEY!, // PEM; its public JWK is registered with `jot clients add`
 * });
 * const res = await service.fetch('https://orders.internal/orders', { audience: 'https://orders.internal' });
 */
export function createServiceClient(options: ServiceClientOptions): ServiceClient {
  const { renewBeforeMs, timeoutMs } = checkOptions(options);
  const fetchImpl: FetchLike = options.fetch ?? ((input, init) => fetch(input, init));
  const clock = options.clock ?? Date.now;
  const endpoint = endpointOf(options, fetchImpl, timeoutMs);
  const cache = new TokenCache({ renewBeforeMs, clock });
  const dpop: ServiceDPoP | undefined =
    options.dpop === undefined || options.dpop === false
      ? undefined
      : createServiceDPoP(options.dpop === true ? undefined : options.dpop, clock);
  const authenticate = clientAuthentication(options, options.clientId, options.issuer, clock);

  async function post(params: URLSearchParams): Promise<OAuthTokenResponse> {
    // Built per attempt: a retry (a DPoP nonce challenge) needs a fresh client assertion.
    const build = () => {
      const copy = new URLSearchParams(params);
      return { params: copy, headers: authenticate(copy) };
    };
    return requestToken(fetchImpl, await endpoint(), build, timeoutMs, dpop);
  }

  function token(target: TokenTarget = {}): Promise<string> {
    return cache.get(keyOf('cc', target), () =>
      post(grantParams({ grant_type: 'client_credentials' }, target)),
    );
  }

  function exchange(subjectToken: string, target: TokenTarget = {}): Promise<string> {
    const grant = {
      grant_type: OAUTH_URIS.tokenExchangeGrant,
      subject_token: subjectToken,
      subject_token_type: OAUTH_URIS.accessTokenType,
      requested_token_type: OAUTH_URIS.accessTokenType,
    };
    return cache.get(keyOf('te', target, hash(subjectToken)), () => post(grantParams(grant, target)));
  }

  const calls: AuthorizedFetchContext = { fetchImpl, dpop, cache };
  return {
    token,
    exchange,
    fetch: (url, target = {}, init) =>
      authorizedFetch(calls, () => token(target), keyOf('cc', target), url, init),
    fetchAs: (subjectToken, url, target = {}, init) =>
      authorizedFetch(
        calls,
        () => exchange(subjectToken, target),
        keyOf('te', target, hash(subjectToken)),
        url,
        init,
      ),
    clear: () => cache.clear(),
  };
}
