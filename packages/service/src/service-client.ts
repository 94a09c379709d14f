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
import { Buffer } from 'node:buffer';

import {
  durationOptionMs,
  OAUTH_URIS,
  refuseRenamedOptions,
  type Duration,
  type OAuthTokenResponse,
} from '@jot/contract';
import { importJWK, importPEM, importSecret, Key, type Algorithm, type JWK } from '@jot/jose';

import { assertionMaker } from './assertion.js';
import { createServiceDPoP, type ServiceDPoP } from './dpop.js';
import { requestToken, tokenEndpointOf, type FetchLike } from './token-endpoint.js';
import { TokenCache } from './token-cache.js';

/** How the service authenticates to the token endpoint. */
export type ServiceCredentials =
  /**
   * `private_key_jwt`: the private key as PEM (PKCS#8), a private JWK, or an imported `Key`. `kid` must be the
   * `kid` of the registered public key (default: the JWK's own, else its RFC 7638 thumbprint); `alg` is needed
   * when the key does not fix one (an RSA key can sign RS256 or PS256).
   */
  | { privateKey: string | JWK | Key; kid?: string; alg?: Algorithm }
  /** `client_secret_basic` (default) or `client_secret_jwt`. */
  | { clientSecret: string; method?: 'client_secret_basic' | 'client_secret_jwt' };

/** Options of `createServiceClient`. */
export type ServiceClientOptions = ServiceCredentials & {
  /** The Jot issuer URL; the token endpoint is discovered from its RFC 8414 metadata. */
  issuer: string;
  /** This service's client_id. */
  clientId: string;
  /** @default discovered `token_endpoint` */
  tokenEndpoint?: string;
  /** Renew a cached token this long before it expires: seconds, or a string such as `'90s'`, `'2m'`. @default 60 */
  renewBefore?: Duration;
  /** Bound on each token request: seconds, or a string such as `'500ms'`, `'5s'`. @default 5 */
  timeout?: Duration;
  fetch?: FetchLike;
  /** Epoch ms. @default Date.now */
  clock?: () => number;
  /**
   * DPoP (RFC 9449): `true` makes a non-extractable ES256 key (WebCrypto) for this helper; or pass your own ECDSA
   * P-256 `CryptoKeyPair` (e.g. one kept across restarts). Every token is then bound to the key and sent as
   * `Authorization: DPoP` with a proof. @default false
   */
  dpop?: boolean | CryptoKeyPair;
};

/** What a token is for. */
export interface TokenTarget {
  /** The audience (RFC 8707 `resource`) of the service to call; it must be registered for this client. */
  audience?: string;
  /** Space-separated scopes; registered ones only. @default every scope the client is registered for */
  scope?: string;
}

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
  /** Forgets every cached token. */
  clear(): void;
}

function importPrivateKey(
  value: string | JWK | Key,
  kid: string | undefined,
  alg: Algorithm | undefined,
): Key {
  if (value instanceof Key) {
    if (value.type !== 'private') throw new TypeError('service: "privateKey" must be a private key');
    return value;
  }
  const keyOptions = { ...(kid === undefined ? {} : { kid }), ...(alg === undefined ? {} : { alg }) };
  const key = typeof value === 'string' ? importPEM(value, keyOptions) : importJWK(value, keyOptions);
  if (key.type !== 'private') throw new TypeError('service: "privateKey" must be a private key');
  return key;
}

/** Validates the options; the duration options in milliseconds. */
function checkOptions(options: ServiceClientOptions): { renewBeforeMs: number; timeoutMs: number } {
  if (typeof options !== 'object' || options === null) throw new TypeError('service: options are required');
  if (typeof options.issuer !== 'string' || !/^https?:\/\/[^/]/.test(options.issuer)) {
    throw new TypeError('service: "issuer" must be an http(s) URL');
  }
  if (typeof options.clientId !== 'string' || options.clientId.length === 0) {
    throw new TypeError('service: "clientId" is required');
  }
  if ('privateKey' in options === 'clientSecret' in options) {
    throw new TypeError('service: give exactly one of "privateKey" (private_key_jwt) or "clientSecret"');
  }
  refuseRenamedOptions(options, 'service', { renewBeforeMs: 'renewBefore', timeoutMs: 'timeout' });
  return {
    renewBeforeMs: durationOptionMs(options.renewBefore ?? 60, 'service', 'renewBefore'),
    timeoutMs: durationOptionMs(options.timeout ?? 5, 'service', 'timeout'),
  };
}

function hash(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
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
  const endpoint =
    options.tokenEndpoint === undefined
      ? tokenEndpointOf(options.issuer, fetchImpl, timeoutMs)
      : (
          (url: string) => () =>
            Promise.resolve(url)
        )(new URL(options.tokenEndpoint).href);
  const cache = new TokenCache({ renewBeforeMs, clock });
  const { clientId, issuer } = options;
  const dpop: ServiceDPoP | undefined =
    options.dpop === undefined || options.dpop === false
      ? undefined
      : createServiceDPoP(options.dpop === true ? undefined : options.dpop);

  let authenticate: (params: URLSearchParams) => Record<string, string>;
  if ('privateKey' in options) {
    const makeAssertion = assertionMaker(
      importPrivateKey(options.privateKey, options.kid, options.alg),
      clientId,
      issuer,
    );
    authenticate = (params) => {
      params.set('client_assertion_type', OAUTH_URIS.jwtBearerAssertion);
      params.set('client_assertion', makeAssertion(clock()));
      return {};
    };
  } else if (options.method === 'client_secret_jwt') {
    const makeAssertion = assertionMaker(
      importSecret(Buffer.from(options.clientSecret, 'utf8'), { alg: 'HS256' }),
      clientId,
      issuer,
    );
    authenticate = (params) => {
      params.set('client_assertion_type', OAUTH_URIS.jwtBearerAssertion);
      params.set('client_assertion', makeAssertion(clock()));
      return {};
    };
  } else {
    // RFC 6749 §2.3.1: id and secret are form-encoded before they are joined.
    const credentials = `${encodeURIComponent(clientId)}:${encodeURIComponent(options.clientSecret)}`;
    const header = { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` };
    authenticate = () => header;
  }

  async function post(params: URLSearchParams): Promise<OAuthTokenResponse> {
    // Built per attempt: a retry (a DPoP nonce challenge) needs a fresh client assertion.
    const build = () => {
      const copy = new URLSearchParams(params);
      return { params: copy, headers: authenticate(copy) };
    };
    return requestToken(fetchImpl, await endpoint(), build, timeoutMs, dpop);
  }

  function targetParams(params: URLSearchParams, target: TokenTarget): URLSearchParams {
    if (target.audience !== undefined) params.set('resource', target.audience);
    if (target.scope !== undefined) params.set('scope', target.scope);
    return params;
  }

  const keyOf = (kind: string, target: TokenTarget, subject = ''): string =>
    JSON.stringify([kind, target.audience ?? '', target.scope ?? '', subject]);

  function token(target: TokenTarget = {}): Promise<string> {
    return cache.get(keyOf('cc', target), () =>
      post(targetParams(new URLSearchParams({ grant_type: 'client_credentials' }), target)),
    );
  }

  function exchange(subjectToken: string, target: TokenTarget = {}): Promise<string> {
    return cache.get(keyOf('te', target, hash(subjectToken)), () =>
      post(
        targetParams(
          new URLSearchParams({
            grant_type: OAUTH_URIS.tokenExchangeGrant,
            subject_token: subjectToken,
            subject_token_type: OAUTH_URIS.accessTokenType,
            requested_token_type: OAUTH_URIS.accessTokenType,
          }),
          target,
        ),
      ),
    );
  }

  async function send(
    get: () => Promise<string>,
    key: string,
    url: string | URL,
    init: RequestInit = {},
  ): Promise<Response> {
    const target = String(url);
    const method = init.method ?? 'GET';
    const once = async (token: string): Promise<Response> => {
      const headers = new Headers(init.headers);
      if (dpop === undefined) {
        headers.set('authorization', `Bearer ${token}`);
        return fetchImpl(target, { ...init, headers });
      }
      headers.set('authorization', `DPoP ${token}`);
      headers.set('dpop', await dpop.proof(method, target, token));
      const response = await fetchImpl(target, { ...init, headers });
      dpop.remember(target, response);
      return response;
    };
    const attempt = async (): Promise<{ response: Response; token: string }> => {
      const token = await get();
      let response = await once(token);
      // A resource server that wants its nonce (RFC 9449 §9): once more, with it.
      if (
        dpop !== undefined &&
        !(init.body instanceof ReadableStream) &&
        (await dpop.asksForNonce(response))
      ) {
        await response.body?.cancel();
        response = await once(token);
      }
      return { response, token };
    };
    const first = await attempt();
    const challenge = first.response.headers.get('www-authenticate') ?? '';
    if (
      first.response.status !== 401 ||
      !/invalid_token/.test(challenge) ||
      init.body instanceof ReadableStream
    ) {
      return first.response;
    }
    // The token was refused (revoked, or signed by a key the service has not seen yet): one retry with a new one.
    await first.response.body?.cancel();
    cache.drop(key, first.token);
    return (await attempt()).response;
  }

  return {
    token,
    exchange,
    fetch: (url, target = {}, init) => send(() => token(target), keyOf('cc', target), url, init),
    fetchAs: (subjectToken, url, target = {}, init) =>
      send(() => exchange(subjectToken, target), keyOf('te', target, hash(subjectToken)), url, init),
    clear: () => cache.clear(),
  };
}
