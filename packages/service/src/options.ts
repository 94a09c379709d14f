/**
 * The options of `createServiceClient` and their validation: the issuer and client id, exactly one way to
 * authenticate (a private key or a secret), and the durations — seconds, or a string such as `'90s'` — turned into
 * milliseconds the one way every Jot package does. Bad options are `TypeError`s, thrown when the helper is built.
 */
import { durationOptionMs, refuseRenamedOptions, type Duration } from '@jot/contract';
import type { Algorithm, JWK, Key } from '@jot/jose';

import type { FetchLike } from './token-endpoint.js';

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
  /**
   * An http(s) URL without `user:password@` (credentials there would end up in errors and logs).
   * @default discovered `token_endpoint`
   */
  tokenEndpoint?: string;
  /** Renew a cached token this long before it expires: seconds, or a string such as `'90s'`, `'2m'`. @default 60 */
  renewBefore?: Duration;
  /** Bound on each token request: seconds, or a string such as `'500ms'`, `'5s'`. @default 5 */
  timeout?: Duration;
  fetch?: FetchLike;
  /** Epoch ms: the time of client assertions, DPoP proofs and the token cache. @default Date.now */
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

/** `tokenEndpoint`, when given, must be an http(s) URL without credentials; the message never repeats it. */
function checkTokenEndpoint(tokenEndpoint: unknown): void {
  if (tokenEndpoint === undefined) return;
  const url =
    typeof tokenEndpoint === 'string' && URL.canParse(tokenEndpoint) ? new URL(tokenEndpoint) : undefined;
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new TypeError('service: "tokenEndpoint" must be an http(s) URL');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('service: "tokenEndpoint" must not contain credentials (user:password@)');
  }
}

/** Validates the options; the duration options in milliseconds. */
export function checkOptions(options: ServiceClientOptions): { renewBeforeMs: number; timeoutMs: number } {
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
  checkTokenEndpoint(options.tokenEndpoint);
  refuseRenamedOptions(options, 'service', { renewBeforeMs: 'renewBefore', timeoutMs: 'timeout' });
  return {
    renewBeforeMs: durationOptionMs(options.renewBefore ?? 60, 'service', 'renewBefore'),
    timeoutMs: durationOptionMs(options.timeout ?? 5, 'service', 'timeout'),
  };
}
